variable "name" {
  description = "Name prefix (e.g. mindlinks-prod): the trail, its log group and its role."
  type        = string
}

variable "resource_prefix" {
  description = "Prefix of the trail's bucket name (S3 names are global)."
  type        = string
}

variable "kms_key_arn" {
  description = "The logs key: CloudTrail's log files, their bucket and the trail's log group."
  type        = string
}

variable "data_event_bucket_arns" {
  description = "Buckets whose object reads and writes the trail records (data events): every bucket of the generated buckets variable."
  type        = list(string)
  validation {
    condition     = length(var.data_event_bucket_arns) > 0
    error_message = "The trail must record data events on the fleet's buckets."
  }
}

variable "append_only_table_arns" {
  description = "Tables declared append_only (journal, audit trail): every write to them is recorded (data events)."
  type        = list(string)
  validation {
    condition     = length(var.append_only_table_arns) > 0
    error_message = "The trail must record writes to the append-only tables."
  }
}

variable "log_retention_days" {
  description = "Retention of the trail's CloudWatch Logs copy (searches, metric filters); the S3 copy is the record."
  type        = number
  default     = 365
}

variable "retention_days" {
  description = "How long the trail's log files stay in S3 (seven years by default; Glacier Instant Retrieval after 90 days)."
  type        = number
  default     = 2557
}
