variable "service_name" {
  description = "The service (a key of the generated services map)."
  type        = string
}

variable "service" {
  description = "The service's entry of the generated fleet.auto.tfvars.json."
  type = object({
    port                  = number
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
    publishes             = bool
    issues_service_tokens = bool
    environment           = map(string)
    secrets               = map(string)
  })
}

variable "name" {
  description = "Name prefix (e.g. mindlinks-prod)."
  type        = string
}

variable "platform_environment" {
  description = "MINDLINKS_* values that differ per environment (platform locals)."
  type        = map(string)
}

variable "cluster" {
  type = object({ arn = string, name = string })
}

variable "network" {
  type = object({
    vpc_id             = string
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
}

variable "load_balancer" {
  type = object({
    listener_arn = string
    ecs_role_arn = string
  })
}

variable "namespace_id" {
  description = "Cloud Map private DNS namespace (mindlinks.internal)."
  type        = string
}

variable "image" {
  type = object({
    repository_url = string
    repository_arn = string
    tag            = string
  })
}

variable "log_group" {
  type = object({ name = string, arn = string })
}

variable "adot_image" {
  type = string
}

variable "access" {
  description = "ARNs this service may use: its own resources only (the platform picks them)."
  type = object({
    tables              = list(string)
    append_only_tables  = optional(list(string), [])
    buckets             = list(string)
    object_lock_buckets = list(string)
    queue               = optional(string)
    dlq                 = optional(string)
    bus                 = string
    own_secret          = string
    service_secrets     = list(string)
    signing_keys_secret = optional(string)
    injected_secrets    = map(string)
    kms = object({
      data      = string
      secrets   = string
      messaging = string
    })
  })
}

variable "rollback_alarm_names" {
  description = "Alarms that roll a deployment back during its bake time."
  type        = list(string)
}

variable "bake_time_minutes" {
  type    = number
  default = 10
}

variable "cpu_target" {
  type    = number
  default = 70
}
