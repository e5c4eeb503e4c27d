# Environment variables: what differs between dev, staging and prod.
variable "environment" {
  description = "dev, staging or prod (MINDLINKS_ENVIRONMENT)."
  type        = string
  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "resource_prefix" {
  description = "Prefix of every physical name (MINDLINKS_RESOURCE_PREFIX); S3 bucket names are global, so make it unique."
  type        = string
}

variable "domain_name" {
  description = "Public API hostname."
  type        = string
}

variable "zone_id" {
  description = "Route 53 hosted zone of domain_name."
  type        = string
}

variable "public_base_url" {
  description = "The dashboards' origin (links in emails)."
  type        = string
}

variable "vpc_cidr" {
  type = string
}

variable "single_nat_gateway" {
  type = bool
}

variable "redis_node_type" {
  type = string
}

variable "redis_replicas" {
  type = number
}

variable "log_level" {
  type    = string
  default = "INFO"
}

variable "log_retention_days" {
  type = number
}

variable "deletion_protection" {
  type = bool
}

variable "backup_retention_days" {
  description = "Days AWS Backup keeps the daily and the monthly recovery points of the tables and the ledger's digest bucket."
  type = object({
    daily   = number
    monthly = number
  })
}

variable "bake_time_minutes" {
  description = "How long a blue/green deployment keeps the old tasks while alarms may roll it back."
  type        = number
}

variable "throttle_rate_limit" {
  type = number
}

variable "throttle_burst_limit" {
  type = number
}

variable "waf_rate_limit" {
  type = number
}

variable "provider_secrets" {
  description = "Per service, the outside providers' keys this environment sets (a subset of the service's generated provider_secrets); their values live in the secret <prefix>config/<service>."
  type        = map(list(string))
  default     = {}
  validation {
    condition = alltrue([
      for service, names in var.provider_secrets : contains(keys(var.services), service) && alltrue([
        for name in names : contains(var.services[service].provider_secrets, name)
      ])
    ])
    error_message = "provider_secrets names a service or a secret its settings do not declare (see fleet.auto.tfvars.json)."
  }
}

variable "service_environment" {
  description = "Per service, plain MINDLINKS_* settings of this environment (e.g. MINDLINKS_KYC_PROVIDER)."
  type        = map(map(string))
  default     = {}
  validation {
    condition = alltrue([
      for service, values in var.service_environment : contains(keys(var.services), service) && alltrue([
        for name in keys(values) : startswith(name, "MINDLINKS_")
      ])
    ])
    error_message = "service_environment names an unknown service or a variable outside MINDLINKS_*."
  }
}

variable "alarm_emails" {
  type    = list(string)
  default = []
}

variable "initial_image_tag" {
  description = "Image tag of a service that has never been deployed (its SSM image-tag parameter still says unset)."
  type        = string
  default     = "unset"
}

variable "adot_image" {
  description = "The ADOT collector sidecar image."
  type        = string
  default     = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
}

variable "manage_account_settings" {
  description = "Own account-wide settings (API Gateway's CloudWatch role): true in one environment per account."
  type        = bool
  default     = true
}

# The fleet: generated from libs/fleet into fleet.auto.tfvars.json
# (python -m mindlinks_dev.deploy.terraform --write). Never edited by hand.
variable "bus" {
  type = string
}

variable "services" {
  type = map(object({
    port                  = number
    area                  = string
    public_paths          = list(string)
    priority              = number
    cpu                   = number
    memory                = number
    min_tasks             = number
    max_tasks             = number
    redis                 = bool
    tables                = list(string)
    buckets               = list(string)
    consumes              = bool
    timers                = bool
    publishes             = bool
    issues_service_tokens = bool
    peers                 = list(string)
    environment           = map(string)
    secrets               = map(string)
    provider_secrets      = list(string)
  }))
}

variable "task_policies" {
  description = "Per service, its task role's statements (generated: mindlinks_dev.iam.policy), resources by reference."
  type = map(list(object({
    sid       = string
    effect    = string
    actions   = list(string)
    resources = list(string)
    conditions = list(object({
      test     = string
      variable = string
      values   = list(string)
    }))
  })))
}

variable "tables" {
  type = map(object({
    service       = string
    hash_key      = string
    range_key     = optional(string)
    attributes    = map(string)
    ttl_attribute = optional(string)
    append_only   = optional(bool, false)
    indexes = list(object({
      name      = string
      hash_key  = string
      range_key = optional(string)
    }))
  }))
}

variable "buckets" {
  type = map(object({
    service     = string
    object_lock = bool
  }))
}

variable "signing_keys" {
  description = "Asymmetric KMS keys that one service alone signs with (generated), each with the secret holding its certificate chain."
  type = map(object({
    service             = string
    certificates_secret = string
  }))
}

variable "subscriptions" {
  description = "Services with a queue (generated): the pattern of the events they consume (null: none), SQS maxReceiveCount, whether their timers fire there."
  type = map(object({
    event_pattern     = string
    max_receive_count = number
    timers            = bool
  }))
}
