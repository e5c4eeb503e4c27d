variable "name" {
  description = "Name prefix (e.g. mindlinks-prod): vault, plan, selection and role."
  type        = string
}

variable "kms_key_arn" {
  description = "The backup key: recovery points do not depend on the data key."
  type        = string
}

variable "table_arns" {
  description = "Every DynamoDB table of the environment."
  type        = list(string)
}

variable "bucket_arns" {
  description = "Buckets to back up (versioned, as AWS Backup requires for S3): the ledger's digest bucket."
  type        = list(string)
}

variable "retention_days" {
  description = "Days AWS Backup keeps the daily and the monthly recovery points."
  type = object({
    daily   = number
    monthly = number
  })
  validation {
    condition     = var.retention_days.daily >= 1 && var.retention_days.monthly >= var.retention_days.daily
    error_message = "Keep daily recovery points at least a day and monthly ones at least as long as daily ones."
  }
}
