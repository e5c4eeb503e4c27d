# Per service: its log group /aws/ecs/<name>/<service> (awslogs; EMF metrics
# travel in the same stream; <name> keeps environments sharing an account apart),
# and three alarms → the SNS topic: 5xx above 5 % of requests, p99 latency
# above 2 s (both over the blue and the green target group), and fewer
# running tasks than desired. One dashboard for the fleet.
resource "aws_cloudwatch_log_group" "service" {
  #checkov:skip=CKV_AWS_338:Retention is an environment variable: 365 days in prod, shorter in dev and staging.
  for_each          = var.services
  name              = "/aws/ecs/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arns["logs"]
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = var.kms_key_arns["messaging"]
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

locals {
  colors = ["blue", "green"]
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  for_each            = var.target_groups
  alarm_name          = "${var.name}-${each.key}-5xx"
  alarm_description   = "${each.key}: more than ${var.error_rate_percent}% of requests answer 5xx"
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.error_rate_percent
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]

  metric_query {
    id          = "rate"
    expression  = "IF((FILL(r_blue, 0) + FILL(r_green, 0)) > 0, 100 * (FILL(e_blue, 0) + FILL(e_green, 0)) / (FILL(r_blue, 0) + FILL(r_green, 0)), 0)"
    label       = "5xx %"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = local.colors
    content {
      id = "e_${metric_query.value}"
      metric {
        namespace   = "AWS/ApplicationELB"
        metric_name = "HTTPCode_Target_5XX_Count"
        stat        = "Sum"
        period      = 60
        dimensions = {
          LoadBalancer = var.load_balancer_arn_suffix
          TargetGroup  = each.value[metric_query.value]
        }
      }
    }
  }

  dynamic "metric_query" {
    for_each = local.colors
    content {
      id = "r_${metric_query.value}"
      metric {
        namespace   = "AWS/ApplicationELB"
        metric_name = "RequestCount"
        stat        = "Sum"
        period      = 60
        dimensions = {
          LoadBalancer = var.load_balancer_arn_suffix
          TargetGroup  = each.value[metric_query.value]
        }
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "latency" {
  for_each            = var.target_groups
  alarm_name          = "${var.name}-${each.key}-p99"
  alarm_description   = "${each.key}: p99 response time above ${var.p99_seconds} s"
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.p99_seconds
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]

  metric_query {
    id          = "p99"
    expression  = "MAX([FILL(t_blue, 0), FILL(t_green, 0)])"
    label       = "p99 seconds"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = local.colors
    content {
      id = "t_${metric_query.value}"
      metric {
        namespace   = "AWS/ApplicationELB"
        metric_name = "TargetResponseTime"
        stat        = "p99"
        period      = 60
        dimensions = {
          LoadBalancer = var.load_balancer_arn_suffix
          TargetGroup  = each.value[metric_query.value]
        }
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "running" {
  for_each            = var.services
  alarm_name          = "${var.name}-${each.key}-running"
  alarm_description   = "${each.key}: fewer running tasks than desired for 5 minutes"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]

  metric_query {
    id          = "missing"
    expression  = "desired - running"
    label       = "desired - running"
    return_data = true
  }

  metric_query {
    id = "desired"
    metric {
      namespace   = "ECS/ContainerInsights"
      metric_name = "DesiredTaskCount"
      stat        = "Average"
      period      = 60
      dimensions  = { ClusterName = var.cluster_name, ServiceName = each.key }
    }
  }

  metric_query {
    id = "running"
    metric {
      namespace   = "ECS/ContainerInsights"
      metric_name = "RunningTaskCount"
      stat        = "Average"
      period      = 60
      dimensions  = { ClusterName = var.cluster_name, ServiceName = each.key }
    }
  }
}

resource "aws_cloudwatch_dashboard" "fleet" {
  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = concat(
      [
        for i, service in sort(tolist(var.services)) : {
          type   = "metric"
          x      = (i % 3) * 8
          y      = floor(i / 3) * 6
          width  = 8
          height = 6
          properties = {
            title  = service
            region = data.aws_region.current.region
            stat   = "Sum"
            period = 60
            metrics = concat(
              [for color in local.colors : ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", var.load_balancer_arn_suffix, "TargetGroup", lookup(lookup(var.target_groups, service, {}), color, "none"), { label = "requests (${color})" }]],
              [for color in local.colors : ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", var.load_balancer_arn_suffix, "TargetGroup", lookup(lookup(var.target_groups, service, {}), color, "none"), { label = "5xx (${color})" }]],
              [["ECS/ContainerInsights", "CpuUtilized", "ClusterName", var.cluster_name, "ServiceName", service, { stat = "Average", yAxis = "right", label = "CPU" }]],
            )
          }
        }
      ],
      [
        {
          type   = "alarm"
          x      = 0
          y      = ceil(length(var.services) / 3) * 6
          width  = 24
          height = 6
          properties = {
            title  = "Alarms"
            alarms = concat([for alarm in aws_cloudwatch_metric_alarm.errors : alarm.arn], [for alarm in aws_cloudwatch_metric_alarm.latency : alarm.arn], [for alarm in aws_cloudwatch_metric_alarm.running : alarm.arn])
          }
        }
      ],
    )
  })
}

data "aws_region" "current" {}
