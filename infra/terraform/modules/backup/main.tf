# AWS Backup for what the platform cannot rebuild: every DynamoDB table and the
# ledger's digest bucket. A daily and a monthly recovery point, each kept as
# long as the environment's backup_retention_days says, in a vault encrypted
# with its own key and locked (governance mode) against deletion before the
# minimum retention.
#
# Tables also keep point-in-time recovery (35 days, any second): that is the
# tool for undoing a bad write. The vault adds what PITR lacks: copies older
# than 35 days (monthly), copies that survive the table's deletion and the data
# key's, and a deletion lock.
resource "aws_backup_vault" "this" {
  name          = var.name
  kms_key_arn   = var.kms_key_arn
  force_destroy = false
}

# Governance mode: nobody deletes a recovery point early or shortens its
# lifecycle below the daily retention, except a principal explicitly allowed
# backup:DeleteBackupVaultLockConfiguration.
resource "aws_backup_vault_lock_configuration" "this" {
  backup_vault_name  = aws_backup_vault.this.name
  min_retention_days = var.retention_days.daily
  max_retention_days = var.retention_days.monthly
}

resource "aws_backup_plan" "this" {
  name = var.name

  rule {
    rule_name         = "daily"
    target_vault_name = aws_backup_vault.this.name
    schedule          = "cron(0 3 * * ? *)" # 03:00 UTC
    start_window      = 60
    completion_window = 360
    lifecycle {
      delete_after = var.retention_days.daily
    }
  }

  rule {
    rule_name         = "monthly"
    target_vault_name = aws_backup_vault.this.name
    schedule          = "cron(0 4 1 * ? *)" # the 1st, 04:00 UTC
    start_window      = 60
    completion_window = 360
    lifecycle {
      delete_after = var.retention_days.monthly
    }
  }
}

# Resources named by ARN are backed up whatever the account's opt-in settings.
resource "aws_backup_selection" "this" {
  name         = "${var.name}-data"
  plan_id      = aws_backup_plan.this.id
  iam_role_arn = aws_iam_role.backup.arn
  resources    = concat(var.table_arns, var.bucket_arns)
}

data "aws_iam_policy_document" "backup_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["backup.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "backup" {
  name               = "${var.name}-backup"
  assume_role_policy = data.aws_iam_policy_document.backup_assume.json
}

data "aws_partition" "current" {}

# AWS's managed policies for a Backup service role: backup and restore of
# DynamoDB, and the S3-specific pair (S3 needs its own).
resource "aws_iam_role_policy_attachment" "backup" {
  for_each = toset([
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
    "AWSBackupServiceRolePolicyForS3Backup",
    "AWSBackupServiceRolePolicyForS3Restore",
  ])
  role       = aws_iam_role.backup.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/${each.value}"
}
