variable "name" {
  description = "Name prefix of every resource (e.g. mindlinks-prod)."
  type        = string
}

variable "resource_prefix" {
  description = "Prefix of the physical names the services compute (MINDLINKS_RESOURCE_PREFIX)."
  type        = string
}

variable "tables" {
  description = "DynamoDB tables (generated fleet.auto.tfvars.json), keyed <service>-<table>."
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
  description = "S3 buckets (generated), keyed by logical name."
  type = map(object({
    service     = string
    object_lock = bool
  }))
}

variable "kms_key_arns" {
  description = "data and secrets keys (security module)."
  type        = map(string)
}

variable "deletion_protection" {
  type    = bool
  default = true
}

variable "digest_retention_days" {
  description = "Object Lock (compliance mode) retention of ledger digests: nobody, root included, can delete them earlier."
  type        = number
  default     = 3650
}

variable "noncurrent_version_days" {
  type    = number
  default = 90
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed to reach Redis (the services)."
  type        = list(string)
}

variable "redis_node_type" {
  type    = string
  default = "cache.t4g.small"
}

variable "redis_replicas" {
  description = "Cache clusters in the replication group (2+ for Multi-AZ failover)."
  type        = number
  default     = 2
}

variable "redis_auth_token_version" {
  description = "Bump to rotate the Redis AUTH token (ROTATE strategy keeps old connections alive)."
  type        = number
  default     = 1
}
