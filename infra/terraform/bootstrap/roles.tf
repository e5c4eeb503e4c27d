# The deploy workflow's two roles per environment, assumed with GitHub's OIDC
# token (no stored keys):
#
#   <name>-plan    terraform plan: reads, the state included (plan_policy.tf)
#   <name>-deploy  terraform apply, the image push and the services' rollout,
#                  scoped to the environment's names (deploy_policies.tf)
#
# Each is trusted only from this repository's deploy workflow running on the
# environment's ref (mindlinks_dev.deploy.target.REFS says the same):
# token.actions.githubusercontent.com:ref and :job_workflow_ref, which AWS STS
# checks for GitHub's tokens since early 2026 (a condition on a claim STS does
# not know never matches: the trust fails closed). The deploy role is assumed
# only by jobs inside the GitHub environment, whose sub claim names it
# (repo:<repository>:environment:<env>): its protection rules (prod: required
# reviewers, v* tags only) stand before every change. The plan job runs
# outside the environment (reviewers approve after reading the plan), so the
# plan role's sub names the ref instead.
locals {
  deploy_refs = {
    dev     = "refs/heads/main"
    staging = "refs/heads/release/*"
    prod    = "refs/tags/v*"
  }
  deploy_workflow = "${var.github_repository}/.github/workflows/deploy.yml"
}

data "aws_iam_policy_document" "deploy_trust" {
  for_each = local.environments

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
      values   = ["repo:${var.github_repository}:environment:${each.key}"]
    }
    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:ref"
      values   = [local.deploy_refs[each.key]]
    }
    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:job_workflow_ref"
      values   = ["${local.deploy_workflow}@${local.deploy_refs[each.key]}"]
    }
  }
}

data "aws_iam_policy_document" "plan_trust" {
  for_each = local.environments

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
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.github_repository}:ref:${local.deploy_refs[each.key]}"]
    }
    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:ref"
      values   = [local.deploy_refs[each.key]]
    }
    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:job_workflow_ref"
      values   = ["${local.deploy_workflow}@${local.deploy_refs[each.key]}"]
    }
  }
}

resource "aws_iam_role" "deploy" {
  for_each             = local.environments
  name                 = "${each.value.name}-deploy"
  description          = "deploy.yml on ${local.deploy_refs[each.key]} in the ${each.key} GitHub environment: apply, push, roll out"
  assume_role_policy   = data.aws_iam_policy_document.deploy_trust[each.key].json
  max_session_duration = 3600
}

resource "aws_iam_role" "plan" {
  for_each             = local.environments
  name                 = "${each.value.name}-plan"
  description          = "deploy.yml on ${local.deploy_refs[each.key]}: terraform plan (read-only)"
  assume_role_policy   = data.aws_iam_policy_document.plan_trust[each.key].json
  max_session_duration = 3600
}

resource "aws_iam_role_policy_attachment" "deploy" {
  for_each = {
    for pair in setproduct(keys(local.environments), keys(local.deploy_policies)) :
    "${pair[0]}/${pair[1]}" => { environment = pair[0], policy = pair[1] }
  }
  role       = aws_iam_role.deploy[each.value.environment].name
  policy_arn = aws_iam_policy.deploy[each.key].arn
}

resource "aws_iam_role_policy_attachment" "plan" {
  for_each = {
    for pair in setproduct(keys(local.environments), keys(local.plan_policies)) :
    "${pair[0]}/${pair[1]}" => { environment = pair[0], policy = pair[1] }
  }
  role       = aws_iam_role.plan[each.value.environment].name
  policy_arn = aws_iam_policy.plan[each.key].arn
}
