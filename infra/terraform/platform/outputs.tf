output "api_url" {
  value = module.edge.url
}

output "cluster_name" {
  value = aws_ecs_cluster.this.name
}

output "repository_urls" {
  value = module.registry.repository_urls
}

output "task_role_arns" {
  value = { for name, service in module.service : name => service.task_role_arn }
}

output "alarm_topic_arn" {
  value = module.observability.alarm_topic_arn
}
