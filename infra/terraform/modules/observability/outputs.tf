output "log_groups" {
  value = { for service, group in aws_cloudwatch_log_group.service : service => { name = group.name, arn = group.arn } }
}

output "alarm_topic_arn" {
  value = aws_sns_topic.alarms.arn
}

output "rollback_alarm_names" {
  description = "service => alarms that roll its deployments back (5xx rate, p99)."
  value = {
    for service in keys(var.target_groups) : service => [
      aws_cloudwatch_metric_alarm.errors[service].alarm_name,
      aws_cloudwatch_metric_alarm.latency[service].alarm_name,
    ]
  }
}
