# Secrets, named as the services look them up (<prefix><name>). Values that
# Terraform generates are ephemeral and written through write-only arguments:
# they never reach a plan or the state.

# service/<name>: each service's credential for service tokens (auth checks it).
ephemeral "random_password" "service" {
  for_each = var.services
  length   = 48
  special  = false
}

resource "aws_secretsmanager_secret" "service" {
  #checkov:skip=CKV2_AWS_57:Rotated by bumping secret_versions.service (write-only value); the services read it at start.
  for_each                = var.services
  name                    = "${var.resource_prefix}service/${each.key}"
  description             = "Credential of ${each.key} for minting service tokens"
  kms_key_id              = aws_kms_key.this["secrets"].arn
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "service" {
  for_each                 = var.services
  secret_id                = aws_secretsmanager_secret.service[each.key].id
  secret_string_wo         = ephemeral.random_password.service[each.key].result
  secret_string_wo_version = var.secret_versions.service
}

# auth/signing-keys: the JWT signing keys (mindlinks_auth.keys). Terraform
# writes the first RSA key; auth rotates it in place (PutSecretValue), so later
# applies leave the value alone (it is write-only and its version unchanged).
ephemeral "tls_private_key" "signing" {
  algorithm = "RSA"
  rsa_bits  = 2048
}

resource "aws_secretsmanager_secret" "signing_keys" {
  #checkov:skip=CKV2_AWS_57:Rotated by the auth service itself (KeySet.rotate keeps old keys published for the grace period).
  name                    = "${var.resource_prefix}auth/signing-keys"
  description             = "JWT RS256 signing keys of auth (newest signs, older stay in the JWKS)"
  kms_key_id              = aws_kms_key.this["secrets"].arn
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "signing_keys" {
  secret_id = aws_secretsmanager_secret.signing_keys.id
  secret_string_wo = jsonencode({
    keys = [{
      kid       = "bootstrap-${var.secret_versions.signing_keys}"
      pem       = ephemeral.tls_private_key.signing.private_key_pem
      createdAt = 0
    }]
  })
  secret_string_wo_version = var.secret_versions.signing_keys
}

# cursor: the HMAC key of pagination cursors (MINDLINKS_CURSOR_SECRET), shared.
ephemeral "random_password" "cursor" {
  length  = 64
  special = false
}

resource "aws_secretsmanager_secret" "cursor" {
  #checkov:skip=CKV2_AWS_57:A new value invalidates open cursors only; rotate by bumping secret_versions.cursor.
  name                    = "${var.resource_prefix}cursor"
  description             = "HMAC key of pagination cursors"
  kms_key_id              = aws_kms_key.this["secrets"].arn
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "cursor" {
  secret_id                = aws_secretsmanager_secret.cursor.id
  secret_string_wo         = ephemeral.random_password.cursor.result
  secret_string_wo_version = var.secret_versions.cursor
}

# config/<name>: outside providers' keys of one service, a JSON object keyed by
# the variable name (e.g. MINDLINKS_SENDGRID_API_KEY). Operators put the value
# (README, "Deploy"); ECS refuses to start the task until every key exists.
locals {
  provider_secrets = {
    for name, service in var.services : name => [
      for variable, kind in service.secrets : variable if kind == "provider"
    ]
  }
}

resource "aws_secretsmanager_secret" "config" {
  #checkov:skip=CKV2_AWS_57:Keys of outside providers are rotated at the provider, then put here by operators.
  for_each                = { for name, keys in local.provider_secrets : name => keys if length(keys) > 0 }
  name                    = "${var.resource_prefix}config/${each.key}"
  description             = "Outside providers' keys of ${each.key}: ${join(", ", each.value)}"
  kms_key_id              = aws_kms_key.this["secrets"].arn
  recovery_window_in_days = 7
}
