variable "name" {
  description = "Name prefix of every resource (e.g. mindlinks-prod)."
  type        = string
}

variable "cidr_block" {
  description = "The VPC's address range; two public and two private /20 subnets are carved from it."
  type        = string
  default     = "10.40.0.0/16"
}

variable "single_nat_gateway" {
  description = "One NAT gateway for both AZs (cheaper, not zone-redundant): dev only."
  type        = bool
  default     = false
}

variable "flow_log_retention_days" {
  description = "Retention of the VPC flow logs."
  type        = number
  default     = 365
}

variable "logs_kms_key_arn" {
  description = "KMS key encrypting the flow log group."
  type        = string
}

variable "load_balancer_port" {
  description = "The internal ALB's listener port (the VPC link reaches it inside the private subnets)."
  type        = number
}
