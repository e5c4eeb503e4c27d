# Run once per AWS account, with an administrator's credentials and local
# state (it creates what the other roots need before they can run):
#
#   cd infra/terraform/bootstrap
#   terraform init && terraform apply -var account_id=... -var environments='["prod"]'
#
# - the S3 bucket holding the environments' Terraform state (versioned,
#   KMS-encrypted, TLS only; locking is S3-native: use_lockfile = true)
# - GitHub's OIDC provider and the role the deploy workflow assumes, trusted
#   only for this repository's GitHub environments listed here — no stored keys.
terraform {
  required_version = ">= 1.11"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.28, < 7.0"
    }
  }
}

variable "account_id" {
  type = string
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "github_repository" {
  description = "owner/name of the repository whose workflows may deploy."
  type        = string
  default     = "mindlinks/backend"
}

variable "environments" {
  description = "GitHub environments (dev, staging, prod) that deploy into this account."
  type        = list(string)
}

provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]
}

data "aws_iam_policy_document" "state_key" {
  #checkov:skip=CKV_AWS_109:A key policy's resource is the key itself; the root statement delegates to IAM.
  #checkov:skip=CKV_AWS_111:Key policy: "*" is this key only; writes are granted through IAM policies naming it.
  #checkov:skip=CKV_AWS_356:Key policy statements name "*", which means the key the policy is attached to.
  statement {
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${var.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "state" {
  description         = "Terraform state"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.state_key.json
}

resource "aws_s3_bucket" "state" {
  #checkov:skip=CKV_AWS_18:Access to the state is audited by CloudTrail; server access logs would need a bucket of their own.
  #checkov:skip=CKV_AWS_144:Versioning protects the state; cross-region replication is not needed for it.
  #checkov:skip=CKV2_AWS_62:No consumer of state-bucket events.
  bucket = "mindlinks-tfstate-${var.account_id}"
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.state.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    id     = "old-state-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 365
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

data "aws_iam_policy_document" "state_tls_only" {
  statement {
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]
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

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = data.aws_iam_policy_document.state_tls_only.json
}

resource "aws_iam_openid_connect_provider" "github" {
  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_policy_document" "github_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.github.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = [for environment in var.environments : "repo:${var.github_repository}:environment:${environment}"]
    }
  }
}

# Terraform applies the whole platform (IAM roles included), so the deploy
# role administers the account; it can only be assumed by this repository's
# workflow jobs running in a listed GitHub environment (prod requires a
# reviewer's approval there).
resource "aws_iam_role" "deploy" {
  name                 = "mindlinks-github-deploy"
  assume_role_policy   = data.aws_iam_policy_document.github_assume.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy_attachment" "deploy" {
  #checkov:skip=CKV_AWS_274:terraform apply creates IAM roles, KMS keys and every other resource of the platform.
  role       = aws_iam_role.deploy.name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}

output "state_bucket" {
  value = aws_s3_bucket.state.bucket
}

output "deploy_role_arn" {
  description = "Set as the AWS_DEPLOY_ROLE_ARN variable of the GitHub environments."
  value       = aws_iam_role.deploy.arn
}
