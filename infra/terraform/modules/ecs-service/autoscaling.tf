# Autoscaling: out at 70 %, in at 30 % (DESIGN §9 and issue 11), on CPU,
# memory and ALB requests per target.
#
# Target tracking cannot say "scale in at 30 %": it scales in as soon as a
# metric sits about 10 % under its target, i.e. near 63 %. So the work is
# split (AWS's documented pattern for a different scale-in rule):
#   - out: one target-tracking policy per metric at scale_out_percent, scale-in
#     disabled; any one of them adds tasks, in proportion to the overshoot;
#   - in:  one step policy, one task at a time, when the load (CPU and requests
#     as a share of a task's capacity) has stayed at or under scale_in_percent
#     for 15 minutes and memory is under scale_out_percent. Memory is not load
#     here: a Python process keeps its heap when traffic falls, so waiting for
#     it to drop to 30 % could block scale-in for good.
# The band between the two thresholds is quiet: removing one of n tasks at
# 30 % leaves at most 30 × n/(n-1) ≤ 60 % < 70 %, so scale-in never triggers a
# scale-out (the validation on scale_in_percent keeps it so).
#
# Requests per target: blue/green gives a service two target groups and ECS
# moves production traffic between them on every deployment, so one policy per
# colour: the idle colour reports no requests and never asks for capacity.
locals {
  # Requests one task serves per minute at 100 % CPU: 60 s of its vCPU share
  # over the CPU one request costs (see cpu_ms_per_request).
  requests_at_capacity = coalesce(
    var.requests_at_capacity,
    floor(60 * 1000 * (var.service.cpu / 1024) / var.cpu_ms_per_request),
  )
  request_target = floor(local.requests_at_capacity * var.scale_out_percent / 100)
}

resource "aws_appautoscaling_target" "this" {
  service_namespace  = "ecs"
  resource_id        = "service/${var.cluster.name}/${aws_ecs_service.this.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.service.min_tasks
  max_capacity       = var.service.max_tasks
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${var.name}-${var.service_name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  resource_id        = aws_appautoscaling_target.this.resource_id
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.scale_out_percent
    disable_scale_in   = true
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "memory" {
  name               = "${var.name}-${var.service_name}-memory"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  resource_id        = aws_appautoscaling_target.this.resource_id
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.scale_out_percent
    disable_scale_in   = true
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageMemoryUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "requests" {
  for_each           = aws_lb_target_group.this
  name               = "${var.name}-${var.service_name}-requests-${each.key}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  resource_id        = aws_appautoscaling_target.this.resource_id
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = local.request_target
    disable_scale_in   = true
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${var.load_balancer.arn_suffix}/${each.value.arn_suffix}"
    }
  }
}

resource "aws_appautoscaling_policy" "scale_in" {
  name               = "${var.name}-${var.service_name}-scale-in"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  resource_id        = aws_appautoscaling_target.this.resource_id
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension

  step_scaling_policy_configuration {
    adjustment_type         = "ChangeInCapacity"
    cooldown                = 300
    metric_aggregation_type = "Maximum"
    step_adjustment {
      metric_interval_upper_bound = 0
      scaling_adjustment          = -1
    }
  }
}

# While it stays in ALARM, CloudWatch re-invokes the scaling action every
# minute; the policy's cooldown spaces the removals 5 minutes apart.
resource "aws_cloudwatch_metric_alarm" "idle" {
  alarm_name          = "${var.name}-${var.service_name}-idle"
  alarm_description   = "${var.service_name}: CPU and requests at or under ${var.scale_in_percent} % of capacity for 15 minutes: remove one task"
  comparison_operator = "LessThanOrEqualToThreshold"
  threshold           = var.scale_in_percent
  evaluation_periods  = 15
  datapoints_to_alarm = 15
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_appautoscaling_policy.scale_in.arn]

  metric_query {
    id          = "idle"
    expression  = "IF(memory < ${var.scale_out_percent}, MAX([cpu, 100 * FILL(requests_blue, 0) / ${local.requests_at_capacity}, 100 * FILL(requests_green, 0) / ${local.requests_at_capacity}]), 100)"
    label       = "load % of capacity"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { cpu = "CPUUtilization", memory = "MemoryUtilization" }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/ECS"
        metric_name = metric_query.value
        stat        = "Average"
        period      = 60
        dimensions  = { ClusterName = var.cluster.name, ServiceName = aws_ecs_service.this.name }
      }
    }
  }

  dynamic "metric_query" {
    for_each = aws_lb_target_group.this
    content {
      id = "requests_${metric_query.key}"
      metric {
        namespace   = "AWS/ApplicationELB"
        metric_name = "RequestCountPerTarget"
        stat        = "Sum"
        period      = 60
        dimensions  = { LoadBalancer = var.load_balancer.arn_suffix, TargetGroup = metric_query.value.arn_suffix }
      }
    }
  }
}
