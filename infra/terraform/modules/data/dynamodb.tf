# One table per entry of the generated variables: on demand, encrypted with
# the data key, point-in-time recovery, TTL where declared, GSIs projecting all.
resource "aws_dynamodb_table" "this" {
  for_each                    = var.tables
  name                        = "${var.resource_prefix}${each.key}"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = each.value.hash_key
  range_key                   = each.value.range_key
  deletion_protection_enabled = var.deletion_protection

  dynamic "attribute" {
    for_each = each.value.attributes
    content {
      name = attribute.key
      type = attribute.value
    }
  }

  dynamic "global_secondary_index" {
    for_each = each.value.indexes
    content {
      name            = global_secondary_index.value.name
      hash_key        = global_secondary_index.value.hash_key
      range_key       = global_secondary_index.value.range_key
      projection_type = "ALL"
    }
  }

  dynamic "ttl" {
    for_each = each.value.ttl_attribute == null ? [] : [each.value.ttl_attribute]
    content {
      enabled        = true
      attribute_name = ttl.value
    }
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arns["data"]
  }

  point_in_time_recovery {
    enabled = true
  }

  tags = { Service = each.value.service }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# Append-only tables (the admin's audit trail, the ledger's journal): only the
# owner's task role may add items, and no principal may change or remove one —
# not even an operator whose own policy grants dynamodb:*. Lifting this needs
# a DeleteResourcePolicy call, which CloudTrail records. IAM cannot tell an
# overwriting PutItem from a new one, so the owner's puts carry
# attribute_not_exists and its hashes and anchored digests detect the rest.
data "aws_iam_policy_document" "append_only" {
  for_each = { for name, table in var.tables : name => table if table.append_only }

  statement {
    sid       = "NobodyRewritesItems"
    effect    = "Deny"
    actions   = ["dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete"]
    resources = [aws_dynamodb_table.this[each.key].arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
  }

  statement {
    sid       = "OnlyTheOwnerAddsItems"
    effect    = "Deny"
    actions   = ["dynamodb:PutItem", "dynamodb:PartiQLInsert"]
    resources = [aws_dynamodb_table.this[each.key].arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:role/${var.name}-${each.value.service}-task"]
    }
  }
}

resource "aws_dynamodb_resource_policy" "append_only" {
  for_each     = data.aws_iam_policy_document.append_only
  resource_arn = aws_dynamodb_table.this[each.key].arn
  policy       = each.value.json
}
