# The environment's CloudTrail trail: every region's management events, and
# the data events (object reads and writes) of the fleet's buckets — the KYC
# documents, the contract PDFs and the ledger's digests. Those data events are
# why the buckets keep no S3 server access logs (their CKV_AWS_18 suppression).
# Log files are KMS-encrypted with the logs key, validated by digest files
# (any change or deletion is detectable), kept in their own bucket (bucket.tf),
# and copied to CloudWatch Logs for searches and metric filters.
data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  # Named here, not read from the trail: the bucket policy and the role's trust
  # policy must exist before the trail does.
  trail_arn = "arn:${data.aws_partition.current.partition}:cloudtrail:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:trail/${var.name}"
}

resource "aws_cloudtrail" "this" {
  #checkov:skip=CKV_AWS_252:A notification per delivered log file has no consumer; the CloudWatch Logs copy is what alerting reads.
  name                          = var.name
  s3_bucket_name                = aws_s3_bucket.trail.id
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  kms_key_id                    = var.kms_key_arn
  cloud_watch_logs_group_arn    = "${aws_cloudwatch_log_group.trail.arn}:*" # CloudTrail wants the stream wildcard
  cloud_watch_logs_role_arn     = aws_iam_role.trail_logs.arn

  advanced_event_selector {
    name = "Management events"
    field_selector {
      field  = "eventCategory"
      equals = ["Management"]
    }
  }

  advanced_event_selector {
    name = "Objects of the fleet's buckets"
    field_selector {
      field  = "eventCategory"
      equals = ["Data"]
    }
    field_selector {
      field  = "resources.type"
      equals = ["AWS::S3::Object"]
    }
    field_selector {
      field       = "resources.ARN"
      starts_with = [for arn in var.data_event_bucket_arns : "${arn}/"]
    }
  }

  # The append-only tables (the ledger's journal, the admin's audit trail):
  # IAM cannot refuse an overwriting PutItem by the owner's own role, so every
  # write to them is on the record, with its key.
  advanced_event_selector {
    name = "Writes to the append-only tables"
    field_selector {
      field  = "eventCategory"
      equals = ["Data"]
    }
    field_selector {
      field  = "resources.type"
      equals = ["AWS::DynamoDB::Table"]
    }
    field_selector {
      field  = "readOnly"
      equals = ["false"]
    }
    field_selector {
      field  = "resources.ARN"
      equals = var.append_only_table_arns
    }
  }

  depends_on = [aws_s3_bucket_policy.trail, aws_iam_role_policy.trail_logs]
}

resource "aws_cloudwatch_log_group" "trail" {
  name              = "/aws/cloudtrail/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

data "aws_iam_policy_document" "trail_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
  }
}

resource "aws_iam_role" "trail_logs" {
  name               = "${var.name}-cloudtrail-logs"
  assume_role_policy = data.aws_iam_policy_document.trail_assume.json
}

data "aws_iam_policy_document" "trail_logs" {
  statement {
    sid       = "WriteTheTrailLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.trail.arn}:log-stream:*"]
  }
}

resource "aws_iam_role_policy" "trail_logs" {
  name   = "cloudtrail-logs"
  role   = aws_iam_role.trail_logs.id
  policy = data.aws_iam_policy_document.trail_logs.json
}
