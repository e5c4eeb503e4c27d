variable "name" {
  description = "Name prefix (e.g. mindlinks-prod)."
  type        = string
}

variable "services" {
  description = "Service names (generated)."
  type        = set(string)
}

variable "cluster_name" {
  type = string
}

variable "load_balancer_arn_suffix" {
  type = string
}

variable "target_groups" {
  description = "service => { blue, green } target group ARN suffixes (ecs-service outputs)."
  type        = map(map(string))
  default     = {}
}

variable "kms_key_arns" {
  description = "logs and messaging keys."
  type        = map(string)
}

variable "log_retention_days" {
  type    = number
  default = 365
}

variable "alarm_emails" {
  description = "Addresses subscribed to the alarm topic (each confirms by mail)."
  type        = list(string)
  default     = []
}

variable "error_rate_percent" {
  type    = number
  default = 5
}

variable "p99_seconds" {
  type    = number
  default = 2
}
