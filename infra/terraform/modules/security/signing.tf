# Signing keys (the fleet declaration's Service.signing_keys): asymmetric KMS
# keys, RSA 3072, SIGN_VERIFY, each used by one service alone, e.g.
# signature-seal, the key that seals final contract PDFs (PAdES). The private
# key never leaves KMS; the service asks kms:Sign for each seal.
#
# Only that service's task role may sign: its IAM policy grants kms:Sign on
# this key alone (mindlinks_dev.iam.policy, SignWithOwnKeys), and the key
# policy denies kms:Sign to every other principal, administrators included,
# so a grant added to another role later cannot make it sign either.
#
# The key's certificate chain is configuration: after the first apply, ops get
# the key's public key (aws kms get-public-key), have a CA certify it, and put
# {"chain": [leaf, intermediates...], "trustRoots": [root]} (PEM) into the
# secret <prefix><service>/<name>-certificates (see docs/security.md).
data "aws_iam_policy_document" "signing" {
  #checkov:skip=CKV_AWS_109:A key policy's resource is always the key itself; the root statement delegates to IAM (AWS's default key policy).
  #checkov:skip=CKV_AWS_111:As CKV_AWS_109: key policies name "*" for the key they are attached to.
  #checkov:skip=CKV_AWS_356:Key policy statements name "*", which means the key the policy is attached to.
  for_each = var.signing_keys

  statement {
    sid       = "AccountAdministersThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [local.root]
    }
  }

  statement {
    sid       = "OnlyItsServiceSigns"
    effect    = "Deny"
    actions   = ["kms:Sign"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = ["arn:${local.partition}:iam::${local.account}:role/${var.name}-${each.value.service}-task"]
    }
  }
}

resource "aws_kms_key" "signing" {
  #checkov:skip=CKV_AWS_7:KMS rotates symmetric keys only; a new signing key means a new certificate (see docs/security.md).
  for_each                 = var.signing_keys
  description              = "${var.name} ${each.key}: signs for ${each.value.service} only"
  key_usage                = "SIGN_VERIFY"
  customer_master_key_spec = "RSA_3072"
  deletion_window_in_days  = var.deletion_window_days
  policy                   = data.aws_iam_policy_document.signing[each.key].json
}

resource "aws_kms_alias" "signing" {
  for_each      = var.signing_keys
  name          = "alias/${var.resource_prefix}${each.key}"
  target_key_id = aws_kms_key.signing[each.key].key_id
}

resource "aws_secretsmanager_secret" "signing_certificates" {
  #checkov:skip=CKV2_AWS_57:Certificates, not a credential: replaced when the CA re-issues the key's certificate.
  for_each                = var.signing_keys
  name                    = "${var.resource_prefix}${each.value.certificates_secret}"
  description             = "Certificate chain and trust roots of the ${each.key} signing key (PEM, JSON)"
  kms_key_id              = aws_kms_key.this["secrets"].arn
  recovery_window_in_days = 7
}
