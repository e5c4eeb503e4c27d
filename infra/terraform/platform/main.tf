# One environment of Mind-Links. The envs/<env> roots call this module with
# their variables and the generated fleet variables; nothing else differs.
data "aws_partition" "current" {}

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

locals {
  name = trimsuffix(var.resource_prefix, "-")
  # The state bucket bootstrap/ creates in this account: the trail records
  # who reads the state (it holds the Redis AUTH token).
  state_bucket_arn = "arn:${data.aws_partition.current.partition}:s3:::mindlinks-tfstate-${data.aws_caller_identity.current.account_id}"
  # The internal ALB's listener, which the VPC link reaches (and the private
  # subnets' network ACL lets through).
  listener_port = 80
  port_range = {
    from = min([for service in var.services : service.port]...)
    to   = max([for service in var.services : service.port]...)
  }

  # MINDLINKS_* values that differ per environment; the rest of a service's
  # environment is generated (services[*].environment, services[*].secrets).
  platform_environment = {
    MINDLINKS_ENVIRONMENT            = var.environment
    MINDLINKS_RESOURCE_PREFIX        = var.resource_prefix
    MINDLINKS_AWS_REGION             = data.aws_region.current.region
    MINDLINKS_PUBLIC_BASE_URL        = var.public_base_url
    MINDLINKS_VERSION                = "set per service: its image tag"
    MINDLINKS_LOG_LEVEL              = var.log_level
    MINDLINKS_OTEL_EXPORTER_ENDPOINT = "http://127.0.0.1:4318"
  }

  # The generated service entries with this environment's providers.
  services = {
    for name, service in var.services : name => merge(service, {
      environment = merge(
        service.environment,
        service.timers ? { MINDLINKS_TIMER_SCHEDULER_ROLE_ARN = module.events.timers_role_arn } : {},
        lookup(var.service_environment, name, {}),
      )
      secrets = merge(service.secrets, { for secret in lookup(var.provider_secrets, name, []) : secret => "provider" })
    })
  }

  # What each execution role reads: the secrets ECS injects into the task.
  access = {
    for name, service in local.services : name => {
      secrets_key = module.security.kms_key_arns["secrets"]
      injected_secrets = {
        for kind in distinct(values(service.secrets)) : kind => (
          kind == "cursor" ? module.security.cursor_secret_arn :
          kind == "redis" ? module.data.redis_url_secret_arn :
          module.security.config_secret_arns[name]
        )
      }
    }
  }
}

module "security" {
  source          = "../modules/security"
  name            = local.name
  resource_prefix = var.resource_prefix
  environment     = var.environment
  public_base_url = var.public_base_url
  services        = { for name, service in local.services : name => { secrets = service.secrets } }
  signing_keys    = var.signing_keys
}

module "network" {
  source             = "../modules/network"
  name               = local.name
  cidr_block         = var.vpc_cidr
  single_nat_gateway = var.single_nat_gateway
  logs_kms_key_arn   = module.security.kms_key_arns["logs"]
  load_balancer_port = local.listener_port
}

module "registry" {
  source          = "../modules/registry"
  resource_prefix = var.resource_prefix
  services        = toset(keys(var.services))
  kms_key_arn     = module.security.kms_key_arns["data"]
}

module "data" {
  source                    = "../modules/data"
  name                      = local.name
  resource_prefix           = var.resource_prefix
  tables                    = var.tables
  buckets                   = var.buckets
  kms_key_arns              = module.security.kms_key_arns
  deletion_protection       = var.deletion_protection
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [aws_security_group.services.id]
  redis_node_type           = var.redis_node_type
  redis_replicas            = var.redis_replicas
}

# The trail records object reads and writes on every generated bucket (the
# KYC documents, the contract PDFs, the ledger's digests) and on the state
# bucket, which is why none of them keeps server access logs.
module "audit" {
  source                 = "../modules/audit"
  name                   = local.name
  resource_prefix        = var.resource_prefix
  kms_key_arn            = module.security.kms_key_arns["logs"]
  data_event_bucket_arns = concat(values(module.data.bucket_arns), [local.state_bucket_arn])
  append_only_table_arns = [for name, table in var.tables : module.data.table_arns[name] if table.append_only]
}

# Every table, and the ledger's digest bucket (the Object Lock one): the
# evidence the journal's hashes are checked against.
module "backup" {
  source         = "../modules/backup"
  name           = local.name
  kms_key_arn    = module.security.kms_key_arns["backup"]
  table_arns     = values(module.data.table_arns)
  bucket_arns    = [for name, bucket in var.buckets : module.data.bucket_arns[name] if bucket.object_lock]
  retention_days = var.backup_retention_days
}

module "events" {
  source          = "../modules/events"
  name            = local.name
  resource_prefix = var.resource_prefix
  bus             = var.bus
  subscriptions   = var.subscriptions
  kms_key_arn     = module.security.kms_key_arns["messaging"]
}

module "observability" {
  source                   = "../modules/observability"
  name                     = local.name
  services                 = toset(keys(var.services))
  cluster_name             = aws_ecs_cluster.this.name
  load_balancer_arn_suffix = aws_lb.internal.arn_suffix
  target_groups            = { for name, service in module.service : name => service.target_group_arn_suffixes }
  kms_key_arns             = module.security.kms_key_arns
  log_retention_days       = var.log_retention_days
  alarm_emails             = var.alarm_emails
}

module "service" {
  source               = "../modules/ecs-service"
  for_each             = local.services
  service_name         = each.key
  service              = each.value
  name                 = local.name
  platform_environment = local.platform_environment
  cluster              = { arn = aws_ecs_cluster.this.arn, name = aws_ecs_cluster.this.name }
  namespace_id         = aws_service_discovery_private_dns_namespace.this.id
  adot_image           = var.adot_image
  bake_time_minutes    = var.bake_time_minutes
  task_policy          = local.task_policies[each.key]
  access               = local.access[each.key]
  log_group            = module.observability.log_groups[each.key]
  rollback_alarm_names = module.observability.rollback_alarm_names[each.key]

  network = {
    vpc_id             = module.network.vpc_id
    subnet_ids         = module.network.private_subnet_ids
    security_group_ids = [aws_security_group.services.id]
  }

  load_balancer = {
    listener_arn = aws_lb_listener.http.arn
    arn_suffix   = aws_lb.internal.arn_suffix
    ecs_role_arn = aws_iam_role.ecs_load_balancers.arn
  }

  image = {
    repository_url = module.registry.repository_urls[each.key]
    repository_arn = module.registry.repository_arns[each.key]
    tag            = module.security.image_tags[each.key] == "unset" ? var.initial_image_tag : module.security.image_tags[each.key]
  }
}

module "edge" {
  source                  = "../modules/edge"
  name                    = local.name
  domain_name             = var.domain_name
  zone_id                 = var.zone_id
  vpc_id                  = module.network.vpc_id
  subnet_ids              = module.network.private_subnet_ids
  throttle_rate_limit     = var.throttle_rate_limit
  throttle_burst_limit    = var.throttle_burst_limit
  waf_rate_limit          = var.waf_rate_limit
  logs_kms_key_arn        = module.security.kms_key_arns["logs"]
  log_retention_days      = var.log_retention_days
  manage_account_settings = var.manage_account_settings

  load_balancer = {
    arn               = aws_lb.internal.arn
    dns_name          = aws_lb.internal.dns_name
    security_group_id = aws_security_group.alb.id
    port              = aws_lb_listener.http.port
  }
}
