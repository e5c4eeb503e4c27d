# What <name>-deploy may do: what `terraform apply` of envs/<env> needs for
# every resource type the platform and its modules declare (the CloudTrail
# trail, AWS Backup, network ACLs, autoscaling and the services' log groups
# under /aws/ecs/<name>/ included), what the image push needs, and what
# infra/scripts/deploy-service.sh calls. No AdministratorAccess, no action
# wildcard on a service.
#
# Where an ARN carries a name, it is limited to the environment's names
# (<prefix>…, <name>-…, /<name>/…, /mindlinks/<name>/…). What AWS names by id
# only (VPC parts, KMS keys, API Gateway, certificates, hosted zones, backup
# plans) is limited to this account and region — one environment per
# account. Actions AWS authorizes only on "*" (Describe/List, Create* that
# name nothing yet) are grouped and say so.
#
# IAM: roles and policies named <name>-… only; the deploy and plan roles and
# their policies are denied outright (the role cannot widen itself); managed
# policies attach only from an allow-list; every iam:PassRole names the role
# and the one service it may be passed to. Still, writing the inline policy
# and trust of a <name>-… role is enough to make a role with more rights than
# this one: a permissions boundary on the platform's roles (set in the
# modules, required here by iam:PermissionsBoundary) would close that — see
# infra/README.md, "Release pipeline".
#
# Each document stays under IAM's 6,144-character limit for a managed
# policy (a test estimates their size); a role takes up to 10 of them.
locals {
  deploy_policies = {
    network = data.aws_iam_policy_document.deploy_network
    compute = data.aws_iam_policy_document.deploy_compute
    iam     = data.aws_iam_policy_document.deploy_iam
    data    = data.aws_iam_policy_document.deploy_data
    keys    = data.aws_iam_policy_document.deploy_keys
    edge    = data.aws_iam_policy_document.deploy_edge
  }
  # The AWS managed policies the platform attaches to its roles.
  attachable_policies = [
    "arn:${local.partition}:iam::aws:policy/service-role/AmazonECSInfrastructureRolePolicyForLoadBalancers",
    "arn:${local.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
    "arn:${local.partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "arn:${local.partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
    "arn:${local.partition}:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup",
    "arn:${local.partition}:iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore",
  ]
}

resource "aws_iam_policy" "deploy" {
  for_each = {
    for pair in setproduct(keys(local.environments), keys(local.deploy_policies)) :
    "${pair[0]}/${pair[1]}" => { environment = pair[0], policy = pair[1] }
  }
  name        = "${local.environments[each.value.environment].name}-deploy-${each.value.policy}"
  description = "${each.value.environment} deploy role: ${each.value.policy}"
  policy      = local.deploy_policies[each.value.policy][each.value.environment].json
}

# VPC, subnets, routes, NAT, security groups, network ACLs, flow logs,
# endpoints; the internal ALB; Cloud Map; DNS records and the certificate.
data "aws_iam_policy_document" "deploy_network" {
  #checkov:skip=CKV_AWS_356:ec2:Describe* on "*": most EC2 Describe actions have no resource type, and all of them only read.
  for_each = local.environments

  statement {
    sid = "OnlyOnAnyResource"
    actions = [
      "ec2:Describe*", "elasticloadbalancing:Describe*", "servicediscovery:CreatePrivateDnsNamespace",
      "servicediscovery:GetOperation", "servicediscovery:List*", "route53:CreateHostedZone",
      "route53:ListHostedZones*", "acm:RequestCertificate", "acm:ListCertificates",
    ]
    resources = ["*"]
  }
  statement {
    sid = "VpcById"
    actions = [
      "ec2:CreateVpc", "ec2:DeleteVpc", "ec2:ModifyVpcAttribute", "ec2:CreateSubnet", "ec2:DeleteSubnet",
      "ec2:ModifySubnetAttribute", "ec2:CreateRouteTable", "ec2:DeleteRouteTable", "ec2:CreateRoute",
      "ec2:DeleteRoute", "ec2:ReplaceRoute", "ec2:AssociateRouteTable", "ec2:DisassociateRouteTable",
      "ec2:CreateInternetGateway", "ec2:DeleteInternetGateway", "ec2:AttachInternetGateway",
      "ec2:DetachInternetGateway", "ec2:AllocateAddress", "ec2:ReleaseAddress", "ec2:DisassociateAddress",
      "ec2:CreateNatGateway", "ec2:DeleteNatGateway", "ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup",
      "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress",
      "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress", "ec2:ModifySecurityGroupRules",
      "ec2:UpdateSecurityGroupRuleDescriptionsIngress", "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
      "ec2:CreateNetworkAcl", "ec2:DeleteNetworkAcl", "ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAclEntry",
      "ec2:ReplaceNetworkAclEntry", "ec2:ReplaceNetworkAclAssociation", "ec2:CreateFlowLogs",
      "ec2:DeleteFlowLogs", "ec2:CreateVpcEndpoint", "ec2:DeleteVpcEndpoints", "ec2:ModifyVpcEndpoint",
      "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:CreateTags", "ec2:DeleteTags",
      "ec2:DescribeVpcAttribute",
    ]
    resources = ["${local.arn.ec2}:*"]
  }
  statement {
    sid = "OwnLoadBalancer"
    actions = [
      "elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:DeleteLoadBalancer",
      "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetSecurityGroups",
      "elasticloadbalancing:SetSubnets", "elasticloadbalancing:CreateListener",
      "elasticloadbalancing:DeleteListener", "elasticloadbalancing:ModifyListener",
      "elasticloadbalancing:ModifyListenerAttributes", "elasticloadbalancing:CreateRule",
      "elasticloadbalancing:DeleteRule", "elasticloadbalancing:ModifyRule",
      "elasticloadbalancing:SetRulePriorities", "elasticloadbalancing:CreateTargetGroup",
      "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:ModifyTargetGroup",
      "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:AddTags",
      "elasticloadbalancing:RemoveTags",
    ]
    resources = [
      "${local.arn.elasticloadbalancing}:loadbalancer/app/${each.value.name}-*/*",
      "${local.arn.elasticloadbalancing}:listener/app/${each.value.name}-*/*",
      "${local.arn.elasticloadbalancing}:listener-rule/app/${each.value.name}-*/*",
      "${local.arn.elasticloadbalancing}:targetgroup/${each.value.name}-*/*",
    ]
  }
  statement {
    sid = "ServiceDiscoveryById"
    actions = [
      "servicediscovery:GetNamespace", "servicediscovery:DeleteNamespace",
      "servicediscovery:UpdatePrivateDnsNamespace", "servicediscovery:CreateService",
      "servicediscovery:GetService", "servicediscovery:UpdateService", "servicediscovery:DeleteService",
      "servicediscovery:TagResource", "servicediscovery:UntagResource", "servicediscovery:ListTagsForResource",
    ]
    resources = ["${local.arn.servicediscovery}:*"]
  }
  statement {
    sid = "HostedZonesById"
    actions = [
      "route53:GetHostedZone", "route53:DeleteHostedZone", "route53:ChangeResourceRecordSets",
      "route53:ListResourceRecordSets", "route53:AssociateVPCWithHostedZone", "route53:GetChange",
      "route53:ChangeTagsForResource", "route53:ListTagsForResource",
    ]
    resources = ["arn:${local.partition}:route53:::hostedzone/*", "arn:${local.partition}:route53:::change/*"]
  }
  statement {
    sid = "CertificatesById"
    actions = [
      "acm:DescribeCertificate", "acm:DeleteCertificate", "acm:ListTagsForCertificate",
      "acm:AddTagsToCertificate", "acm:RemoveTagsFromCertificate",
    ]
    resources = ["${local.arn.acm}:certificate/*"]
  }
}

# ECS, the image registry and push, autoscaling, logs, alarms, the alarm
# topic.
data "aws_iam_policy_document" "deploy_compute" {
  for_each = local.environments

  statement {
    sid = "OnlyOnAnyResource"
    actions = [
      "ecr:GetAuthorizationToken", "ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition",
      "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "application-autoscaling:Describe*",
      "logs:DescribeLogGroups", "logs:DescribeResourcePolicies", "logs:PutResourcePolicy",
      "logs:DeleteResourcePolicy", "logs:CreateLogDelivery", "logs:GetLogDelivery",
      "logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:ListLogDeliveries",
    ]
    resources = ["*"]
  }
  statement {
    sid = "OwnClusterAndServices"
    actions = [
      "ecs:CreateCluster", "ecs:UpdateCluster", "ecs:UpdateClusterSettings", "ecs:DeleteCluster",
      "ecs:PutClusterCapacityProviders", "ecs:DescribeClusters", "ecs:CreateService", "ecs:UpdateService",
      "ecs:DeleteService", "ecs:DescribeServices", "ecs:ListServiceDeployments",
      "ecs:DescribeServiceDeployments", "ecs:StopServiceDeployment", "ecs:DescribeServiceRevisions",
      "ecs:TagResource", "ecs:UntagResource", "ecs:ListTagsForResource",
    ]
    resources = [
      "${local.arn.ecs}:cluster/mindlinks-cluster",
      "${local.arn.ecs}:service/mindlinks-cluster/*",
      "${local.arn.ecs}:service-deployment/mindlinks-cluster/*",
      "${local.arn.ecs}:service-revision/mindlinks-cluster/*",
      "${local.arn.ecs}:task-definition/${each.value.name}-*",
    ]
  }
  statement {
    sid = "OwnRepositoriesAndPush"
    actions = [
      "ecr:CreateRepository", "ecr:DeleteRepository", "ecr:DescribeRepositories", "ecr:PutLifecyclePolicy",
      "ecr:GetLifecyclePolicy", "ecr:DeleteLifecyclePolicy", "ecr:PutImageScanningConfiguration",
      "ecr:PutImageTagMutability", "ecr:GetRepositoryPolicy", "ecr:TagResource", "ecr:UntagResource",
      "ecr:ListTagsForResource", "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload",
      "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage",
      "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer",
    ]
    resources = ["${local.arn.ecr}:repository/${each.value.prefix}*"]
  }
  statement {
    sid = "ScalableTargetsById"
    actions = [
      "application-autoscaling:RegisterScalableTarget", "application-autoscaling:DeregisterScalableTarget",
      "application-autoscaling:PutScalingPolicy", "application-autoscaling:DeleteScalingPolicy",
      "application-autoscaling:TagResource", "application-autoscaling:UntagResource",
      "application-autoscaling:ListTagsForResource",
    ]
    resources = ["${local.arn.application-autoscaling}:scalable-target/*"]
  }
  statement {
    sid = "OwnLogGroups"
    actions = [
      "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy",
      "logs:AssociateKmsKey", "logs:DisassociateKmsKey", "logs:TagResource", "logs:UntagResource",
      "logs:ListTagsForResource", "logs:TagLogGroup", "logs:UntagLogGroup", "logs:ListTagsLogGroup",
    ]
    resources = [
      "${local.arn.logs}:log-group:/mindlinks/${each.value.name}/*",
      "${local.arn.logs}:log-group:aws-waf-logs-${each.value.name}*",
      "${local.arn.logs}:log-group:/aws/ecs/${each.value.name}/*",
      "${local.arn.logs}:log-group:/aws/cloudtrail/${each.value.name}*",
    ]
  }
  statement {
    sid = "OwnAlarmsAndDashboard"
    actions = [
      "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms",
      "cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource",
      "cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards",
    ]
    resources = [
      "${local.arn.cloudwatch}:alarm:${each.value.name}-*",
      # Target tracking's own alarms, made with the caller's permissions.
      "${local.arn.cloudwatch}:alarm:TargetTracking-service/mindlinks-cluster/*",
      "arn:${local.partition}:cloudwatch::${var.account_id}:dashboard/${each.value.name}",
    ]
  }
  statement {
    sid = "OwnTopics"
    actions = [
      "sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes",
      "sns:Subscribe", "sns:Unsubscribe", "sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes",
      "sns:ListSubscriptionsByTopic", "sns:TagResource", "sns:UntagResource", "sns:ListTagsForResource",
    ]
    resources = ["${local.arn.sns}:${each.value.name}-*"]
  }
}

# Tables, buckets, Redis, queues, the bus, backups, the trail.
data "aws_iam_policy_document" "deploy_data" {
  for_each = local.environments

  statement {
    sid = "OnlyOnAnyResource"
    actions = [
      "cloudtrail:DescribeTrails", "backup-storage:MountCapsule",
    ]
    resources = ["*"]
  }
  statement {
    sid = "OwnTables"
    actions = [
      "dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:DescribeTable",
      "dynamodb:DescribeContinuousBackups", "dynamodb:UpdateContinuousBackups",
      "dynamodb:DescribeTimeToLive", "dynamodb:UpdateTimeToLive", "dynamodb:TagResource",
      "dynamodb:UntagResource", "dynamodb:ListTagsOfResource", "dynamodb:GetResourcePolicy",
      "dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy",
    ]
    resources = ["${local.arn.dynamodb}:table/${each.value.prefix}*"]
  }
  statement {
    sid = "OwnBucketsNotTheirObjects"
    actions = [
      "s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketPolicy",
      "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:GetBucketAcl", "s3:GetBucketCORS",
      "s3:GetBucketWebsite", "s3:GetBucketVersioning", "s3:PutBucketVersioning",
      "s3:GetAccelerateConfiguration", "s3:GetBucketRequestPayment", "s3:GetBucketLogging",
      "s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration", "s3:GetReplicationConfiguration",
      "s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration",
      "s3:GetBucketObjectLockConfiguration", "s3:PutBucketObjectLockConfiguration",
      "s3:GetBucketTagging", "s3:PutBucketTagging", "s3:GetBucketOwnershipControls",
      "s3:PutBucketOwnershipControls", "s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock",
    ]
    resources = ["${local.s3}${each.value.prefix}*"]
  }
  statement {
    sid = "OwnRedis"
    actions = [
      "elasticache:CreateReplicationGroup", "elasticache:ModifyReplicationGroup",
      "elasticache:DeleteReplicationGroup", "elasticache:DescribeReplicationGroups",
      "elasticache:IncreaseReplicaCount", "elasticache:DecreaseReplicaCount",
      "elasticache:CreateCacheCluster", "elasticache:DescribeCacheClusters",
      "elasticache:CreateCacheSubnetGroup", "elasticache:ModifyCacheSubnetGroup",
      "elasticache:DeleteCacheSubnetGroup", "elasticache:DescribeCacheSubnetGroups",
      "elasticache:AddTagsToResource", "elasticache:RemoveTagsFromResource",
      "elasticache:ListTagsForResource",
    ]
    resources = [
      "${local.arn.elasticache}:replicationgroup:${each.value.name}*",
      "${local.arn.elasticache}:cluster:${each.value.name}*",
      "${local.arn.elasticache}:subnetgroup:${each.value.name}*",
      "${local.arn.elasticache}:snapshot:${each.value.name}*",
      "${local.arn.elasticache}:parametergroup:default.*",
    ]
  }
  statement {
    sid = "OwnScheduleGroup"
    actions = [
      "scheduler:CreateScheduleGroup", "scheduler:DeleteScheduleGroup", "scheduler:GetScheduleGroup",
      "scheduler:TagResource", "scheduler:UntagResource", "scheduler:ListTagsForResource",
    ]
    resources = ["${local.arn.scheduler}:schedule-group/${each.value.prefix}*"]
  }
  statement {
    sid = "OwnQueues"
    actions = [
      "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes",
      "sqs:GetQueueUrl", "sqs:TagQueue", "sqs:UntagQueue", "sqs:ListQueueTags",
    ]
    resources = ["${local.arn.sqs}:${each.value.prefix}*"]
  }
  statement {
    sid = "OwnBusRulesArchive"
    actions = [
      "events:CreateEventBus", "events:DeleteEventBus", "events:DescribeEventBus", "events:UpdateEventBus",
      "events:PutRule", "events:DeleteRule", "events:DescribeRule", "events:EnableRule",
      "events:DisableRule", "events:PutTargets", "events:RemoveTargets", "events:ListTargetsByRule",
      "events:CreateArchive", "events:DeleteArchive", "events:DescribeArchive", "events:UpdateArchive",
      "events:TagResource", "events:UntagResource", "events:ListTagsForResource",
    ]
    resources = [
      "${local.arn.events}:event-bus/${each.value.prefix}*",
      "${local.arn.events}:rule/${each.value.prefix}*",
      "${local.arn.events}:archive/${each.value.prefix}*",
    ]
  }
  statement {
    sid = "OwnBackupVaultAndPlans"
    actions = [
      "backup:CreateBackupVault", "backup:DeleteBackupVault", "backup:DescribeBackupVault",
      "backup:PutBackupVaultAccessPolicy", "backup:GetBackupVaultAccessPolicy",
      "backup:DeleteBackupVaultAccessPolicy", "backup:PutBackupVaultLockConfiguration",
      "backup:DeleteBackupVaultLockConfiguration", "backup:CreateBackupPlan", "backup:UpdateBackupPlan",
      "backup:DeleteBackupPlan", "backup:GetBackupPlan", "backup:CreateBackupSelection",
      "backup:DeleteBackupSelection", "backup:GetBackupSelection", "backup:TagResource",
      "backup:UntagResource", "backup:ListTags",
    ]
    resources = [
      "${local.arn.backup}:backup-vault:${each.value.name}*",
      "${local.arn.backup}:backup-plan:*",
    ]
  }
  statement {
    sid = "OwnTrail"
    actions = [
      "cloudtrail:CreateTrail", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail", "cloudtrail:GetTrail",
      "cloudtrail:GetTrailStatus", "cloudtrail:StartLogging", "cloudtrail:StopLogging",
      "cloudtrail:PutEventSelectors", "cloudtrail:GetEventSelectors", "cloudtrail:PutInsightSelectors",
      "cloudtrail:GetInsightSelectors", "cloudtrail:AddTags", "cloudtrail:RemoveTags", "cloudtrail:ListTags",
    ]
    resources = ["${local.arn.cloudtrail}:trail/${each.value.name}*"]
  }
}

# IAM: the platform's roles and their policies, and passing each role to the
# one service that assumes it.
data "aws_iam_policy_document" "deploy_iam" {
  for_each = local.environments

  statement {
    sid = "OwnRoles"
    actions = [
      "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateRoleDescription",
      "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:ListRoleTags",
      "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
      "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
    ]
    resources = ["${local.iam}:role/${each.value.name}-*"]
  }
  statement {
    sid       = "AttachListedPolicies"
    actions   = ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
    resources = ["${local.iam}:role/${each.value.name}-*"]
    condition {
      test     = "ArnLike"
      variable = "iam:PolicyARN"
      values   = concat(local.attachable_policies, ["${local.iam}:policy/${each.value.name}-*"])
    }
  }
  statement {
    sid = "OwnPolicies"
    actions = [
      "iam:CreatePolicy", "iam:DeletePolicy", "iam:GetPolicy", "iam:GetPolicyVersion",
      "iam:ListPolicyVersions", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:TagPolicy",
      "iam:UntagPolicy",
    ]
    resources = ["${local.iam}:policy/${each.value.name}-*"]
  }
  # Each role the platform passes, to the one service that assumes it.
  statement {
    sid       = "PassTaskRoles"
    actions   = ["iam:PassRole"]
    resources = ["${local.iam}:role/${each.value.name}-*-task", "${local.iam}:role/${each.value.name}-*-execution"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
  statement {
    sid       = "PassEcsInfrastructureRole"
    actions   = ["iam:PassRole"]
    resources = ["${local.iam}:role/${each.value.name}-ecs-load-balancers"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs.amazonaws.com"]
    }
  }
  statement {
    sid       = "PassTimersRole"
    actions   = ["iam:PassRole"]
    resources = ["${local.iam}:role/${each.value.name}-timers"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["scheduler.amazonaws.com"]
    }
  }
  statement {
    sid       = "PassFlowLogsRole"
    actions   = ["iam:PassRole"]
    resources = ["${local.iam}:role/${each.value.name}-vpc-flow"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["vpc-flow-logs.amazonaws.com"]
    }
  }
  statement {
    sid       = "PassApiGatewayLogsRole"
    actions   = ["iam:PassRole"]
    resources = ["${local.iam}:role/${each.value.name}-apigateway-logs"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["apigateway.amazonaws.com"]
    }
  }
  statement {
    sid       = "PassBackupRole"
    actions   = ["iam:PassRole"]
    resources = ["${local.iam}:role/${each.value.name}-backup*"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["backup.amazonaws.com"]
    }
  }
  statement {
    sid       = "PassCloudTrailRole"
    actions   = ["iam:PassRole"]
    resources = ["${local.iam}:role/${each.value.name}-cloudtrail*"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["cloudtrail.amazonaws.com"]
    }
  }
  statement {
    sid       = "ServiceLinkedRoles"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["${local.iam}:role/aws-service-role/*"]
    condition {
      test     = "StringEquals"
      variable = "iam:AWSServiceName"
      values = [
        "ecs.amazonaws.com", "elasticloadbalancing.amazonaws.com", "elasticache.amazonaws.com",
        "ecs.application-autoscaling.amazonaws.com", "ops.apigateway.amazonaws.com", "backup.amazonaws.com",
      ]
    }
  }
  statement {
    sid    = "NeverTheDeployRolesThemselves"
    effect = "Deny"
    actions = [
      "iam:Attach*", "iam:Create*", "iam:Delete*", "iam:Detach*", "iam:Put*", "iam:Tag*", "iam:Untag*",
      "iam:Update*", "iam:SetDefaultPolicyVersion", "iam:PassRole",
    ]
    resources = [
      "${local.iam}:role/${each.value.name}-deploy",
      "${local.iam}:role/${each.value.name}-plan",
      "${local.iam}:policy/${each.value.name}-deploy-*",
      "${local.iam}:policy/${each.value.name}-plan-*",
    ]
  }
}

# KMS keys, secrets, parameters, and the Terraform state.
data "aws_iam_policy_document" "deploy_keys" {
  for_each = local.environments

  statement {
    sid       = "OnlyOnAnyResource"
    actions   = ["kms:CreateKey", "kms:ListAliases", "kms:ListKeys", "ssm:DescribeParameters"]
    resources = ["*"]
  }
  statement {
    sid = "KeysById"
    actions = [
      "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:GetKeyRotationStatus",
      "kms:EnableKeyRotation", "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource",
      "kms:UpdateKeyDescription", "kms:ScheduleKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias",
      "kms:UpdateAlias",
    ]
    resources = ["${local.arn.kms}:key/*", "${local.arn.kms}:alias/${each.value.prefix}*"]
  }
  statement {
    sid       = "KeyGrantsForAwsResources"
    actions   = ["kms:CreateGrant"]
    resources = ["${local.arn.kms}:key/*"]
    condition {
      test     = "Bool"
      variable = "kms:GrantIsForAWSResource"
      values   = ["true"]
    }
  }
  statement {
    sid       = "KeysThroughTheirServices"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["${local.arn.kms}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = [
        for service in ["secretsmanager", "ssm", "events", "sqs", "dynamodb", "elasticache", "ecr"] :
        "${service}.${var.region}.amazonaws.com"
      ]
    }
  }
  statement {
    sid    = "UseTheStateKeyOnly"
    effect = "Deny"
    actions = [
      "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:CreateGrant", "kms:TagResource",
      "kms:UntagResource", "kms:UpdateKeyDescription", "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias",
    ]
    resources = [aws_kms_key.state.arn, aws_kms_alias.state.arn]
  }
  statement {
    sid = "OwnSecrets"
    actions = [
      "secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:DescribeSecret",
      "secretsmanager:UpdateSecret", "secretsmanager:TagResource", "secretsmanager:UntagResource",
      "secretsmanager:GetResourcePolicy", "secretsmanager:ListSecretVersionIds",
      "secretsmanager:UpdateSecretVersionStage",
    ]
    resources = ["${local.arn.secretsmanager}:secret:${each.value.prefix}*"]
  }
  # The values Terraform writes (and refreshes): generated credentials, never
  # the outside providers' keys operators put into <prefix>config/<service>.
  statement {
    sid     = "GeneratedSecretValues"
    actions = ["secretsmanager:PutSecretValue", "secretsmanager:GetSecretValue"]
    resources = [
      "${local.arn.secretsmanager}:secret:${each.value.prefix}service/*",
      "${local.arn.secretsmanager}:secret:${each.value.prefix}auth/signing-keys-*",
      "${local.arn.secretsmanager}:secret:${each.value.prefix}cursor-*",
      "${local.arn.secretsmanager}:secret:${each.value.prefix}redis-url-*",
    ]
  }
  statement {
    sid = "OwnParameters"
    actions = [
      "ssm:PutParameter", "ssm:DeleteParameter", "ssm:GetParameter", "ssm:GetParameters",
      "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource", "ssm:ListTagsForResource",
    ]
    resources = ["${local.arn.ssm}:parameter/${each.value.name}/*"]
  }
  statement {
    sid       = "StateBucket"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.state.arn]
  }
  statement {
    sid       = "StateAndLock"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.state.arn}/${local.state_key}", "${aws_s3_bucket.state.arn}/${local.state_key}.tflock"]
  }
  statement {
    sid       = "StateKey"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.state.arn]
  }
}

# API Gateway (REST API, stage, custom domain, VPC link, account settings)
# and the WAF in front of it.
data "aws_iam_policy_document" "deploy_edge" {
  for_each = local.environments

  statement {
    sid = "ApiGatewayById"
    actions = [
      "apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE",
      "apigateway:UpdateRestApiPolicy", "apigateway:SetWebACL", "apigateway:AddCertificateToDomain",
      "apigateway:RemoveCertificateFromDomain",
    ]
    resources = [
      "${local.apigateway}/restapis", "${local.apigateway}/restapis/*", "${local.apigateway}/domainnames",
      "${local.apigateway}/domainnames/*", "${local.apigateway}/vpclinks", "${local.apigateway}/vpclinks/*",
      "${local.apigateway}/account", "${local.apigateway}/tags/*",
    ]
  }
  statement {
    sid = "OwnWebAcl"
    actions = [
      "wafv2:CreateWebACL", "wafv2:UpdateWebACL", "wafv2:DeleteWebACL", "wafv2:GetWebACL",
      "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "wafv2:GetWebACLForResource",
      "wafv2:PutLoggingConfiguration", "wafv2:DeleteLoggingConfiguration", "wafv2:GetLoggingConfiguration",
      "wafv2:TagResource", "wafv2:UntagResource", "wafv2:ListTagsForResource",
    ]
    resources = [
      "${local.arn.wafv2}:regional/webacl/${each.value.name}/*",
      "${local.arn.wafv2}:regional/managedruleset/*/*",
      "${local.apigateway}/restapis/*/stages/*",
    ]
  }
}
