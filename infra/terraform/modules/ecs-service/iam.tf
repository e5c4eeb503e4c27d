# Two roles per service. The execution role lets ECS pull this service's image,
# write its log group and read the secrets injected into it. The task role is
# what the code may do: its own tables and their indexes, its own buckets, its
# own queue and dead-letter queue, PutEvents on the bus, its own service
# secret, the data key — never a wildcard action on a data store.
data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-${var.service_name}-execution"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # the action has no resource-level permissions
  }
  statement {
    sid       = "PullOwnImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [var.image.repository_arn]
  }
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${var.log_group.arn}:*"]
  }
  statement {
    sid       = "ReadInjectedSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = distinct(values(var.access.injected_secrets))
  }
  statement {
    sid       = "DecryptInjectedSecrets"
    actions   = ["kms:Decrypt"]
    resources = [var.access.kms.secrets]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "execution"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-${var.service_name}-task"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

data "aws_iam_policy_document" "task" {
  statement {
    sid = "OwnTables"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:Query",
      "dynamodb:Scan",
      "dynamodb:ConditionCheckItem",
      "dynamodb:DescribeTable",
    ]
    resources = concat(var.access.tables, [for table in var.access.tables : "${table}/index/*"])
  }

  # An audit trail or a journal: the service may add and read items, never
  # update or delete them. IAM has no condition key for a ConditionExpression,
  # so it cannot refuse an overwriting PutItem: the code's puts carry
  # attribute_not_exists, and the owner's hashes and anchors detect the rest.
  dynamic "statement" {
    for_each = length(var.access.append_only_tables) > 0 ? ["append-only"] : []
    content {
      sid = "OwnAppendOnlyTables"
      actions = [
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:ConditionCheckItem",
        "dynamodb:DescribeTable",
      ]
      resources = concat(
        var.access.append_only_tables,
        [for table in var.access.append_only_tables : "${table}/index/*"],
      )
    }
  }

  # An explicit deny wins over any allow a later policy might add to the role.
  dynamic "statement" {
    for_each = length(var.access.append_only_tables) > 0 ? ["append-only-deny"] : []
    content {
      sid    = "NeverRewriteAppendOnlyTables"
      effect = "Deny"
      actions = [
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:PartiQLInsert",
        "dynamodb:PartiQLUpdate",
        "dynamodb:PartiQLDelete",
        "dynamodb:UpdateTable",
        "dynamodb:DeleteTable",
        "dynamodb:RestoreTableFromBackup",
        "dynamodb:RestoreTableToPointInTime",
        "dynamodb:ImportTable",
        "dynamodb:PutResourcePolicy",
        "dynamodb:DeleteResourcePolicy",
      ]
      resources = concat(
        var.access.append_only_tables,
        [for table in var.access.append_only_tables : "${table}/index/*"],
      )
    }
  }

  dynamic "statement" {
    for_each = length(var.access.buckets) > 0 ? ["buckets"] : []
    content {
      sid       = "OwnBucketObjects"
      actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject"]
      resources = [for bucket in var.access.buckets : "${bucket}/*"]
    }
  }

  dynamic "statement" {
    for_each = length(var.access.object_lock_buckets) > 0 ? ["digests"] : []
    content {
      sid = "OwnLockedBucketObjects"
      # PutObject with a retain-until date needs PutObjectRetention; in
      # compliance mode that can only ever lengthen a retention.
      actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectRetention"]
      resources = [for bucket in var.access.object_lock_buckets : "${bucket}/*"]
    }
  }

  dynamic "statement" {
    for_each = length(concat(var.access.buckets, var.access.object_lock_buckets)) > 0 ? ["list"] : []
    content {
      sid       = "ListOwnBuckets"
      actions   = ["s3:ListBucket"]
      resources = concat(var.access.buckets, var.access.object_lock_buckets)
    }
  }

  dynamic "statement" {
    for_each = var.access.queue == null ? [] : ["queue"]
    content {
      sid = "ConsumeOwnQueue"
      actions = [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueUrl",
        "sqs:GetQueueAttributes",
      ]
      resources = [var.access.queue]
    }
  }

  dynamic "statement" {
    for_each = var.access.dlq == null ? [] : ["dlq"]
    content {
      sid       = "DeadLetterToOwnQueue"
      actions   = ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
      resources = [var.access.dlq]
    }
  }

  dynamic "statement" {
    for_each = var.service.publishes ? ["publish"] : []
    content {
      sid       = "PublishOnTheBus"
      actions   = ["events:PutEvents"]
      resources = [var.access.bus]
    }
  }

  statement {
    sid       = "ReadServiceSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = distinct(concat([var.access.own_secret], var.access.service_secrets))
  }

  dynamic "statement" {
    for_each = var.access.signing_keys_secret == null ? [] : ["signing"]
    content {
      sid       = "KeepSigningKeys"
      actions   = ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:DescribeSecret"]
      resources = [var.access.signing_keys_secret]
    }
  }

  statement {
    sid       = "DataKey"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [var.access.kms.data]
  }

  # DynamoDB tables encrypted with the data key use grants it creates for the caller.
  statement {
    sid       = "DataKeyGrantsForDynamoDb"
    actions   = ["kms:CreateGrant"]
    resources = [var.access.kms.data]
    condition {
      test     = "Bool"
      variable = "kms:GrantIsForAWSResource"
      values   = ["true"]
    }
  }

  statement {
    sid       = "SecretsKey"
    actions   = var.access.signing_keys_secret == null ? ["kms:Decrypt"] : ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.access.kms.secrets]
  }

  dynamic "statement" {
    for_each = var.access.queue != null || var.service.publishes ? ["messaging"] : []
    content {
      sid       = "MessagingKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [var.access.kms.messaging]
    }
  }

  statement {
    sid = "Traces"
    actions = [
      "xray:PutTraceSegments",
      "xray:PutTelemetryRecords",
      "xray:GetSamplingRules",
      "xray:GetSamplingTargets",
    ]
    resources = ["*"] # X-Ray has no resource-level permissions
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "task"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}
