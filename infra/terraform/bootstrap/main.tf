# Run once per AWS account, with an administrator's credentials and local
# state (it creates what the other roots need before they can run):
#
#   cd infra/terraform/bootstrap
#   terraform init && terraform apply -var account_id=... -var environments='["prod"]'
#
# - the S3 bucket holding the environment's Terraform state (versioned,
#   KMS-encrypted, TLS only; locking is S3-native: use_lockfile = true)
# - GitHub's OIDC provider and, per environment, the two roles the deploy
#   workflow assumes (roles.tf): <name>-plan, read-only, for terraform plan;
#   <name>-deploy, for terraform apply, the image push and the rollout — no
#   AdministratorAccess, no stored keys (deploy_policies.tf, plan_policy.tf).
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
  description = "owner/name of the repository whose deploy workflow may assume the roles."
  type        = string
  default     = "mindlinks/backend"
}

variable "environments" {
  description = "Environments (dev, staging, prod) deploying into this account; one per account, as the state key is one."
  type        = list(string)

  validation {
    condition     = alltrue([for environment in var.environments : contains(["dev", "staging", "prod"], environment)])
    error_message = "Environments are dev, staging and prod (each deploys from its own ref: roles.tf)."
  }
}

variable "resource_prefixes" {
  description = "resource_prefix of an environment whose terraform.tfvars does not use mindlinks-<environment>-."
  type        = map(string)
  default     = {}
}

provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]
}

data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition
  # An environment's resource prefix (terraform.tfvars) and the name the
  # platform derives from it (local.name there): every name the deploy role
  # may touch starts with one of them.
  environments = {
    for environment in var.environments : environment => {
      prefix = lookup(var.resource_prefixes, environment, "mindlinks-${environment}-")
      name   = trimsuffix(lookup(var.resource_prefixes, environment, "mindlinks-${environment}-"), "-")
    }
  }
  # The state object of envs/common/main.tf's backend, and its S3 lock file.
  state_key = "mindlinks/terraform.tfstate"
  # ARN heads by service, for the policies' resources.
  arn = {
    for service in [
      "acm", "application-autoscaling", "backup", "cloudtrail", "cloudwatch", "dynamodb", "ec2",
      "ecr", "ecs", "elasticache", "elasticloadbalancing", "events", "kms", "logs",
      "scheduler", "secretsmanager", "servicediscovery", "sns", "sqs", "ssm", "wafv2",
    ] : service => "arn:${local.partition}:${service}:${var.region}:${var.account_id}"
  }
  iam        = "arn:${local.partition}:iam::${var.account_id}"
  s3         = "arn:${local.partition}:s3:::"
  apigateway = "arn:${local.partition}:apigateway:${var.region}::"
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

# The deploy workflow seals its saved plans under this key by name
# (infra/scripts/plan-artifact.sh).
resource "aws_kms_alias" "state" {
  name          = "alias/mindlinks-tfstate"
  target_key_id = aws_kms_key.state.key_id
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

output "state_bucket" {
  value = aws_s3_bucket.state.bucket
}

output "plan_role_arns" {
  description = "Per environment: the role of the deploy workflow's plan job (read-only)."
  value       = { for environment, role in aws_iam_role.plan : environment => role.arn }
}

output "deploy_role_arns" {
  description = "Per environment: the role of the apply job and the services' rollout."
  value       = { for environment, role in aws_iam_role.deploy : environment => role.arn }
}
