# One microservice on Fargate: task definition (app + ADOT collector sidecar),
# ECS service registered in Cloud Map (<name>.mindlinks.internal), blue and
# green target groups behind a path rule on the internal ALB, ECS-native
# blue/green deployments with alarm rollback; autoscaling in autoscaling.tf.
data "aws_region" "current" {}

locals {
  container = "app"
  tg_name   = substr("${var.name}-${var.service_name}", 0, 30)
  environment = merge(var.platform_environment, var.service.environment, {
    PORT              = tostring(var.service.port)
    MINDLINKS_VERSION = var.image.tag
  })
  secrets = [
    for variable, kind in var.service.secrets : {
      name      = variable
      valueFrom = kind == "provider" ? "${var.access.injected_secrets[kind]}:${variable}::" : var.access.injected_secrets[kind]
    }
  ]
  adot_config = yamlencode({
    extensions = { health_check = { endpoint = "127.0.0.1:13133" } }
    receivers  = { otlp = { protocols = { http = { endpoint = "127.0.0.1:4318" } } } }
    processors = { batch = { timeout = "1s" } }
    exporters  = { awsxray = { region = data.aws_region.current.region } }
    service = {
      extensions = ["health_check"]
      pipelines  = { traces = { receivers = ["otlp"], processors = ["batch"], exporters = ["awsxray"] } }
    }
  })
  log_options = {
    awslogs-group         = var.log_group.name
    awslogs-region        = data.aws_region.current.region
    mode                  = "non-blocking"
    max-buffer-size       = "25m"
    awslogs-stream-prefix = var.service_name
  }
}

resource "aws_ecs_task_definition" "this" {
  family                   = "${var.name}-${var.service_name}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.service.cpu
  memory                   = var.service.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([
    {
      name                   = local.container
      image                  = "${var.image.repository_url}:${var.image.tag}"
      essential              = true
      user                   = "10001:10001"
      readonlyRootFilesystem = true
      portMappings           = [{ containerPort = var.service.port, protocol = "tcp", name = "http" }]
      environment            = [for key in sort(keys(local.environment)) : { name = key, value = local.environment[key] }]
      secrets                = local.secrets
      mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
      stopTimeout            = 30
      ulimits                = [{ name = "nofile", softLimit = 65536, hardLimit = 65536 }]
      healthCheck = {
        command     = ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${var.service.port}/health/live', timeout=2)"]
        interval    = 10
        timeout     = 3
        retries     = 3
        startPeriod = 20
      }
      dependsOn        = [{ containerName = "otel", condition = "START" }]
      logConfiguration = { logDriver = "awslogs", options = local.log_options }
    },
    {
      name                   = "otel"
      image                  = var.adot_image
      essential              = false
      readonlyRootFilesystem = true
      environment            = [{ name = "AOT_CONFIG_CONTENT", value = local.adot_config }]
      healthCheck = {
        command     = ["/healthcheck"]
        interval    = 10
        timeout     = 3
        retries     = 3
        startPeriod = 10
      }
      logConfiguration = { logDriver = "awslogs", options = merge(local.log_options, { awslogs-stream-prefix = "${var.service_name}-otel" }) }
    },
  ])
}

resource "aws_service_discovery_service" "this" {
  name = var.service_name

  dns_config {
    namespace_id   = var.namespace_id
    routing_policy = "MULTIVALUE"
    dns_records {
      type = "A"
      ttl  = 10
    }
  }

  health_check_custom_config {}
}

resource "aws_lb_target_group" "this" {
  #checkov:skip=CKV_AWS_378:Targets are private tasks behind the internal ALB; TLS terminates at API Gateway.
  for_each             = toset(["blue", "green"])
  name                 = "${local.tg_name}-${substr(each.key, 0, 1)}"
  port                 = var.service.port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.network.vpc_id
  deregistration_delay = 30

  health_check {
    path                = "/health/live"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener_rule" "this" {
  listener_arn = var.load_balancer.listener_arn
  priority     = var.service.priority

  action {
    type = "forward"
    forward {
      target_group {
        arn    = aws_lb_target_group.this["blue"].arn
        weight = 100
      }
      target_group {
        arn    = aws_lb_target_group.this["green"].arn
        weight = 0
      }
    }
  }

  condition {
    path_pattern {
      values = var.service.public_paths
    }
  }

  # ECS shifts the weights during a blue/green deployment.
  lifecycle {
    ignore_changes = [action]
  }
}

resource "aws_ecs_service" "this" {
  name                              = var.service_name
  cluster                           = var.cluster.arn
  task_definition                   = aws_ecs_task_definition.this.arn
  desired_count                     = var.service.min_tasks
  launch_type                       = "FARGATE"
  platform_version                  = "LATEST"
  health_check_grace_period_seconds = 60
  enable_ecs_managed_tags           = true
  propagate_tags                    = "SERVICE"

  deployment_controller {
    type = "ECS"
  }

  deployment_configuration {
    strategy             = "BLUE_GREEN"
    bake_time_in_minutes = var.bake_time_minutes
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  alarms {
    enable      = true
    rollback    = true
    alarm_names = var.rollback_alarm_names
  }

  network_configuration {
    subnets          = var.network.subnet_ids
    security_groups  = var.network.security_group_ids
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.this["blue"].arn
    container_name   = local.container
    container_port   = var.service.port

    advanced_configuration {
      alternate_target_group_arn = aws_lb_target_group.this["green"].arn
      production_listener_rule   = aws_lb_listener_rule.this.arn
      role_arn                   = var.load_balancer.ecs_role_arn
    }
  }

  service_registries {
    registry_arn = aws_service_discovery_service.this.arn
  }

  # Deployments register new task definitions (deploy workflow); autoscaling
  # owns the desired count.
  lifecycle {
    ignore_changes = [task_definition, desired_count]
  }
}
