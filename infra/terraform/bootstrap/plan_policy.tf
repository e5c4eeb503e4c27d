# What <name>-plan may do: read what `terraform plan` refreshes, and nothing
# else. It writes nothing — not even the state lock: the plan job runs with
# -lock=false, and the apply job (deploy role) takes the S3 lock and refuses
# the saved plan if the state changed since it was made.
#
# Reads of configuration only, never of data: no DynamoDB items, S3 objects
# (the state aside), queue messages or log events. Two reads are of values,
# because a refresh cannot do without them: the SSM parameters under
# /<name>/ (the deployed image tags that applies read back) and the secrets
# whose values Terraform generates and writes (a refresh of a secret version
# calls GetSecretValue) — never the outside providers' keys in
# <prefix>config/<service>. The state it decrypts holds the Redis AUTH token
# anyway.
locals {
  plan_policies = {
    config = data.aws_iam_policy_document.plan_config
    data   = data.aws_iam_policy_document.plan_data
  }
}

resource "aws_iam_policy" "plan" {
  for_each = {
    for pair in setproduct(keys(local.environments), keys(local.plan_policies)) :
    "${pair[0]}/${pair[1]}" => { environment = pair[0], policy = pair[1] }
  }
  name        = "${local.environments[each.value.environment].name}-plan-${each.value.policy}"
  description = "${each.value.environment} plan role, read-only: ${each.value.policy}"
  policy      = local.plan_policies[each.value.policy][each.value.environment].json
}

# The configuration of the platform's resources.
data "aws_iam_policy_document" "plan_config" {
  #checkov:skip=CKV_AWS_356:ec2:Describe* on "*": most EC2 Describe actions have no resource type, and all of them only read.
  for_each = local.environments

  statement {
    sid = "OnlyOnAnyResource"
    actions = [
      "ec2:Describe*", "elasticloadbalancing:Describe*", "application-autoscaling:Describe*",
      "servicediscovery:List*", "route53:ListHostedZones*", "acm:ListCertificates",
      "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "logs:DescribeLogGroups",
      "logs:DescribeResourcePolicies", "logs:GetLogDelivery", "logs:ListLogDeliveries", "kms:ListAliases",
      "ssm:DescribeParameters", "cloudtrail:DescribeTrails",
    ]
    resources = ["*"]
  }
  statement {
    sid       = "ReadVpcById"
    actions   = ["ec2:DescribeVpcAttribute"]
    resources = ["${local.arn.ec2}:*"]
  }
  statement {
    sid = "ReadById"
    actions = [
      "servicediscovery:Get*", "route53:Get*", "route53:List*", "acm:DescribeCertificate",
      "acm:ListTagsForCertificate", "application-autoscaling:ListTagsForResource", "kms:DescribeKey",
      "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags", "backup:GetBackupPlan",
      "backup:GetBackupSelection", "backup:ListTags", "apigateway:GET",
    ]
    resources = [
      "${local.arn.servicediscovery}:*", "arn:${local.partition}:route53:::hostedzone/*",
      "arn:${local.partition}:route53:::change/*", "${local.arn.acm}:certificate/*",
      "${local.arn.application-autoscaling}:scalable-target/*", "${local.arn.kms}:key/*",
      "${local.arn.backup}:backup-plan:*", "${local.apigateway}/*",
    ]
  }
  statement {
    sid = "ReadOwnNamed"
    actions = [
      "ecs:Describe*", "ecs:List*", "ecr:DescribeRepositories", "ecr:GetLifecyclePolicy",
      "ecr:GetRepositoryPolicy", "ecr:ListTagsForResource", "logs:ListTagsForResource", "logs:ListTagsLogGroup",
      "cloudwatch:DescribeAlarms", "cloudwatch:GetDashboard", "cloudwatch:ListTagsForResource",
      "sns:GetTopicAttributes", "sns:GetSubscriptionAttributes", "sns:ListSubscriptionsByTopic",
      "sns:ListTagsForResource", "wafv2:Get*", "wafv2:List*", "backup:DescribeBackupVault",
      "backup:GetBackupVaultAccessPolicy", "cloudtrail:GetTrail", "cloudtrail:GetTrailStatus",
      "cloudtrail:GetEventSelectors", "cloudtrail:GetInsightSelectors", "cloudtrail:ListTags",
    ]
    resources = [
      "${local.arn.ecs}:cluster/mindlinks-cluster",
      "${local.arn.ecs}:service/mindlinks-cluster/*",
      "${local.arn.ecs}:service-deployment/mindlinks-cluster/*",
      "${local.arn.ecr}:repository/${each.value.prefix}*",
      "${local.arn.logs}:log-group:/mindlinks/${each.value.name}/*",
      "${local.arn.logs}:log-group:aws-waf-logs-${each.value.name}*",
      "${local.arn.logs}:log-group:/aws/ecs/${each.value.name}/*",
      "${local.arn.logs}:log-group:/aws/cloudtrail/${each.value.name}*",
      "${local.arn.cloudwatch}:alarm:${each.value.name}-*",
      "${local.arn.cloudwatch}:alarm:TargetTracking-service/mindlinks-cluster/*",
      "arn:${local.partition}:cloudwatch::${var.account_id}:dashboard/${each.value.name}",
      "${local.arn.sns}:${each.value.name}-*",
      "${local.arn.wafv2}:regional/webacl/${each.value.name}/*",
      "${local.arn.wafv2}:regional/managedruleset/*/*",
      "${local.apigateway}/restapis/*/stages/*",
      "${local.arn.backup}:backup-vault:${each.value.name}*",
      "${local.arn.cloudtrail}:trail/${each.value.name}*",
    ]
  }
  statement {
    sid = "ReadOwnRoles"
    actions = [
      "iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
      "iam:ListRoleTags", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions",
    ]
    resources = ["${local.iam}:role/${each.value.name}-*", "${local.iam}:policy/${each.value.name}-*"]
  }
}

# The data stores' configuration, the values a refresh needs, and the state.
data "aws_iam_policy_document" "plan_data" {
  for_each = local.environments

  statement {
    sid = "ReadOwnTables"
    actions = [
      "dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive",
      "dynamodb:ListTagsOfResource", "dynamodb:GetResourcePolicy",
    ]
    resources = ["${local.arn.dynamodb}:table/${each.value.prefix}*"]
  }
  statement {
    sid = "ReadOwnBuckets"
    actions = [
      "s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketPolicy", "s3:GetBucketAcl", "s3:GetBucketCORS",
      "s3:GetBucketWebsite", "s3:GetBucketVersioning", "s3:GetAccelerateConfiguration",
      "s3:GetBucketRequestPayment", "s3:GetBucketLogging", "s3:GetLifecycleConfiguration",
      "s3:GetReplicationConfiguration", "s3:GetEncryptionConfiguration",
      "s3:GetBucketObjectLockConfiguration", "s3:GetBucketTagging", "s3:GetBucketOwnershipControls",
      "s3:GetBucketPublicAccessBlock",
    ]
    resources = ["${local.s3}${each.value.prefix}*"]
  }
  statement {
    sid = "ReadOwnRedis"
    actions = [
      "elasticache:DescribeReplicationGroups", "elasticache:DescribeCacheClusters",
      "elasticache:DescribeCacheSubnetGroups", "elasticache:ListTagsForResource",
    ]
    resources = [
      "${local.arn.elasticache}:replicationgroup:${each.value.name}*",
      "${local.arn.elasticache}:cluster:${each.value.name}*",
      "${local.arn.elasticache}:subnetgroup:${each.value.name}*",
    ]
  }
  statement {
    sid       = "ReadOwnSecretsConfiguration"
    actions   = ["secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"]
    resources = ["${local.arn.secretsmanager}:secret:${each.value.prefix}*"]
  }
  statement {
    sid     = "ReadGeneratedSecretValues"
    actions = ["secretsmanager:GetSecretValue"]
    resources = [
      "${local.arn.secretsmanager}:secret:${each.value.prefix}service/*",
      "${local.arn.secretsmanager}:secret:${each.value.prefix}auth/signing-keys-*",
      "${local.arn.secretsmanager}:secret:${each.value.prefix}cursor-*",
      "${local.arn.secretsmanager}:secret:${each.value.prefix}redis-url-*",
    ]
  }
  statement {
    sid       = "ReadOwnParameters"
    actions   = ["ssm:GetParameter", "ssm:GetParameters", "ssm:ListTagsForResource"]
    resources = ["${local.arn.ssm}:parameter/${each.value.name}/*"]
  }
  statement {
    sid       = "ReadOwnQueues"
    actions   = ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"]
    resources = ["${local.arn.sqs}:${each.value.prefix}*"]
  }
  statement {
    sid       = "ReadOwnScheduleGroup"
    actions   = ["scheduler:GetScheduleGroup", "scheduler:ListTagsForResource"]
    resources = ["${local.arn.scheduler}:schedule-group/${each.value.prefix}*"]
  }
  statement {
    sid = "ReadOwnBusRulesArchive"
    actions = [
      "events:DescribeEventBus", "events:DescribeRule", "events:ListTargetsByRule", "events:DescribeArchive",
      "events:ListTagsForResource",
    ]
    resources = [
      "${local.arn.events}:event-bus/${each.value.prefix}*",
      "${local.arn.events}:rule/${each.value.prefix}*",
      "${local.arn.events}:archive/${each.value.prefix}*",
    ]
  }
  statement {
    sid       = "DecryptThroughSecretsAndParameters"
    actions   = ["kms:Decrypt"]
    resources = ["${local.arn.kms}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${var.region}.amazonaws.com", "ssm.${var.region}.amazonaws.com"]
    }
  }
  statement {
    sid       = "ReadState"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.state.arn]
  }
  statement {
    sid       = "ReadStateObject"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.state.arn}/${local.state_key}"]
  }
  statement {
    sid       = "DecryptState"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.state.arn]
  }
  # The saved plan leaves the job sealed under a data key of the state key
  # (infra/scripts/plan-artifact.sh); the context keeps the grant to that use.
  statement {
    sid       = "SealThePlan"
    actions   = ["kms:GenerateDataKey"]
    resources = [aws_kms_key.state.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:purpose"
      values   = ["terraform-plan"]
    }
  }
}
