# Customer-managed keys, rotated yearly, one per kind of data:
#   data      DynamoDB tables, S3 buckets, ElastiCache, and the services' own
#             envelope encryption (bank details, TOTP secrets) via alias/<prefix>data
#   secrets   Secrets Manager secrets and SSM SecureString parameters
#   messaging the event bus, SQS queues and the alarm topic (AWS services
#             publishing into them are allowed in the key policy)
#   logs      CloudWatch log groups and CloudTrail's log files
#   backup    the AWS Backup vault: recovery points do not depend on the data
#             key, so disabling or deleting that key does not take them along
data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.region
  partition = data.aws_partition.current.partition
  root      = "arn:${local.partition}:iam::${local.account}:root"
  keys = {
    data      = "DynamoDB, S3, ElastiCache and application envelope encryption"
    secrets   = "Secrets Manager and SSM parameters"
    messaging = "EventBridge, SQS and SNS"
    logs      = "CloudWatch Logs and CloudTrail"
    backup    = "AWS Backup vault"
  }
  encrypt_decrypt = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
  # AWS services that encrypt into these keys themselves (SQS, SNS, DynamoDB,
  # S3, Secrets Manager and AWS Backup act with their caller's IAM
  # permissions instead).
  service_statements = {
    data    = []
    secrets = []
    backup  = []
    messaging = [
      # EventBridge: the encrypted bus, its archive, and delivery to the queues.
      { sid = "EventsAmazonawsCom", principal = "events.amazonaws.com", actions = local.encrypt_decrypt, test = "StringEquals", variable = "aws:SourceAccount", values = [local.account] },
      # CloudWatch alarms publishing to the encrypted alarm topic.
      { sid = "CloudwatchAmazonawsCom", principal = "cloudwatch.amazonaws.com", actions = local.encrypt_decrypt, test = "StringEquals", variable = "aws:SourceAccount", values = [local.account] },
    ]
    logs = [
      { sid = "LogsRegionAmazonawsCom", principal = "logs.${local.region}.amazonaws.com", actions = local.encrypt_decrypt, test = "ArnLike", variable = "kms:EncryptionContext:aws:logs:arn", values = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:*"] },
      # CloudTrail encrypts each log file for a trail of this account, and
      # checks the key when the trail is created or changed.
      { sid = "CloudTrailEncryptsLogFiles", principal = "cloudtrail.amazonaws.com", actions = ["kms:GenerateDataKey*"], test = "StringLike", variable = "kms:EncryptionContext:aws:cloudtrail:arn", values = ["arn:${local.partition}:cloudtrail:*:${local.account}:trail/*"] },
      { sid = "CloudTrailDescribesKey", principal = "cloudtrail.amazonaws.com", actions = ["kms:DescribeKey"], test = "StringEquals", variable = "aws:SourceAccount", values = [local.account] },
    ]
  }
}

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_109:A key policy's resource is always the key itself; the root statement delegates to IAM (AWS's default key policy).
  #checkov:skip=CKV_AWS_111:As CKV_AWS_109: key policies name "*" for the key they are attached to.
  #checkov:skip=CKV_AWS_356:Key policy statements name "*", which means the key the policy is attached to.
  for_each = local.keys

  # The account administers the key; every use is granted by IAM policies
  # naming this key (task roles, the execution role).
  statement {
    sid       = "AccountAdministersThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [local.root]
    }
  }

  dynamic "statement" {
    for_each = local.service_statements[each.key]
    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = ["*"]
      principals {
        type        = "Service"
        identifiers = [statement.value.principal]
      }
      condition {
        test     = statement.value.test
        variable = statement.value.variable
        values   = statement.value.values
      }
    }
  }
}

resource "aws_kms_key" "this" {
  for_each                = local.keys
  description             = "${var.name} ${each.key}: ${each.value}"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_days
  policy                  = data.aws_iam_policy_document.key[each.key].json
}

resource "aws_kms_alias" "this" {
  for_each      = local.keys
  name          = "alias/${var.resource_prefix}${each.key}"
  target_key_id = aws_kms_key.this[each.key].key_id
}
