variable "account_id" {
  description = "The AWS account of this environment (the provider refuses any other)."
  type        = string
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "environment" {
  type = string
}

variable "resource_prefix" {
  type = string
}

variable "domain_name" {
  type = string
}

variable "zone_id" {
  type = string
}

variable "public_base_url" {
  type = string
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
  description = "Days AWS Backup keeps the daily and the monthly recovery points."
  type = object({
    daily   = number
    monthly = number
  })
}

variable "bake_time_minutes" {
  type = number
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
  type    = map(list(string))
  default = {}
}

variable "service_environment" {
  type    = map(map(string))
  default = {}
}

variable "alarm_emails" {
  type    = list(string)
  default = []
}

variable "initial_image_tag" {
  description = "Set by the deploy workflow (-var initial_image_tag=<sha>)."
  type        = string
  default     = "unset"
}

variable "manage_account_settings" {
  type    = bool
  default = true
}

# Generated (fleet.auto.tfvars.json); the platform module types them.
variable "bus" {
  type = string
}

variable "services" {
  type = any
}

variable "task_policies" {
  type = any
}

variable "tables" {
  type = any
}

variable "buckets" {
  type = any
}

variable "subscriptions" {
  type = any
}

variable "signing_keys" {
  type = any
}
