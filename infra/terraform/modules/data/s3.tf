# Document buckets: versioned, SSE-KMS with the data key, public access
# blocked, TLS only, owner-enforced. The ledger's digest bucket adds Object
# Lock in compliance mode (retention nobody can shorten, root included).
resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:Object reads and writes are recorded as CloudTrail data events: the environment's trail (modules/audit) selects every bucket of var.buckets.
  #checkov:skip=CKV_AWS_144:Single-region by design; versioning, Object Lock and PITR cover recovery.
  #checkov:skip=CKV2_AWS_62:No consumer of S3 event notifications; services record their writes in DynamoDB.
  for_each            = var.buckets
  bucket              = "${var.resource_prefix}${each.key}"
  object_lock_enabled = each.value.object_lock
  force_destroy       = false
  tags                = { Service = each.value.service }
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = var.buckets
  bucket   = aws_s3_bucket.this[each.key].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each                = var.buckets
  bucket                  = aws_s3_bucket.this[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = var.buckets
  bucket   = aws_s3_bucket.this[each.key].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = var.buckets
  bucket   = aws_s3_bucket.this[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arns["data"]
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = var.buckets
  bucket   = aws_s3_bucket.this[each.key].id

  rule {
    id     = "noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = each.value.object_lock ? var.digest_retention_days : var.noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_object_lock_configuration" "this" {
  for_each = { for name, bucket in var.buckets : name => bucket if bucket.object_lock }
  bucket   = aws_s3_bucket.this[each.key].id
  rule {
    default_retention {
      mode = "COMPLIANCE"
      days = var.digest_retention_days
    }
  }
  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "tls_only" {
  for_each = var.buckets
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this[each.key].arn, "${aws_s3_bucket.this[each.key].arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each   = var.buckets
  bucket     = aws_s3_bucket.this[each.key].id
  policy     = data.aws_iam_policy_document.tls_only[each.key].json
  depends_on = [aws_s3_bucket_public_access_block.this]
}
