variable "name" {
  description = "Name prefix (e.g. mindlinks-prod)."
  type        = string
}

variable "domain_name" {
  description = "Public API hostname (api.mindlinks.com in prod)."
  type        = string
}

variable "zone_id" {
  description = "Route 53 hosted zone of domain_name (certificate validation and the alias record)."
  type        = string
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  description = "Private subnets of the VPC link."
  type        = list(string)
}

variable "load_balancer" {
  description = "The internal ALB."
  type = object({
    arn               = string
    dns_name          = string
    security_group_id = string
    port              = number
  })
}

variable "throttle_rate_limit" {
  description = "Stage-wide steady-state requests per second."
  type        = number
  default     = 500
}

variable "throttle_burst_limit" {
  type    = number
  default = 1000
}

variable "waf_rate_limit" {
  description = "Requests per client IP per 5 minutes before WAF blocks it."
  type        = number
  default     = 2000
}

variable "logs_kms_key_arn" {
  type = string
}

variable "log_retention_days" {
  type    = number
  default = 365
}

variable "manage_account_settings" {
  description = "Set API Gateway's account-wide CloudWatch role (once per account and region)."
  type        = bool
  default     = true
}
