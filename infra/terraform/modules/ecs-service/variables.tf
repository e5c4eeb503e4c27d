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
  description = "The shared internal ALB: its listener, ARN suffix (metrics) and the role ECS shifts traffic with."
  type = object({
    listener_arn = string
    arn_suffix   = string
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
  description = "What the execution role reads: the secrets injected into the task, and their key."
  type = object({
    injected_secrets = map(string)
    secrets_key      = string
  })
}

variable "task_policy" {
  description = "The task role's statements, generated from the fleet declaration (mindlinks_dev.iam.policy) with the platform's ARNs."
  type = list(object({
    sid       = string
    effect    = string
    actions   = list(string)
    resources = list(string)
    conditions = list(object({
      test     = string
      variable = string
      values   = list(string)
    }))
  }))
}

variable "rollback_alarm_names" {
  description = "Alarms that roll a deployment back during its bake time."
  type        = list(string)
}

variable "bake_time_minutes" {
  type    = number
  default = 10
}

variable "scale_out_percent" {
  description = "Scale out when CPU, memory or requests per task pass this share of a task's capacity (DESIGN §9: 70 %)."
  type        = number
  default     = 70
}

variable "scale_in_percent" {
  description = "Scale in, one task at a time, when CPU and requests stay at or under this share for 15 minutes."
  type        = number
  default     = 30
  validation {
    # Removing one of n >= 2 tasks at most doubles the load per task: staying
    # under half the scale-out threshold keeps a scale-in from undoing itself.
    condition     = var.scale_in_percent > 0 && var.scale_in_percent * 2 < var.scale_out_percent
    error_message = "scale_in_percent must be positive and under half of scale_out_percent."
  }
}

# Turns a task's vCPU share into requests per minute at capacity. Measured
# (README "Performance"): an authenticated DynamoDB read costs 2.5 ms of CPU;
# writes add a transaction with the outbox item and TLS adds its share, so
# 5 ms. Replace it with production's CPU-per-request once there is traffic.
variable "cpu_ms_per_request" {
  description = "CPU milliseconds a typical request costs."
  type        = number
  default     = 5
}

variable "requests_at_capacity" {
  description = "Requests per minute one task serves at 100 % CPU; null derives it from the task's cpu and cpu_ms_per_request."
  type        = number
  default     = null
}
