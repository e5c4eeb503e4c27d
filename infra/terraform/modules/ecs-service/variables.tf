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

variable "cpu_target" {
  type    = number
  default = 70
}
