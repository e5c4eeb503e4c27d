output "kms_key_arns" {
  description = "data, secrets, messaging, logs"
  value       = { for kind, key in aws_kms_key.this : kind => key.arn }
}

output "service_secret_arns" {
  value = { for name, secret in aws_secretsmanager_secret.service : name => secret.arn }
}

output "signing_keys_secret_arn" {
  value = aws_secretsmanager_secret.signing_keys.arn
}

output "cursor_secret_arn" {
  value = aws_secretsmanager_secret.cursor.arn
}

output "config_secret_arns" {
  value = { for name, secret in aws_secretsmanager_secret.config : name => secret.arn }
}

output "image_tags" {
  value = { for name, parameter in aws_ssm_parameter.image_tag : name => nonsensitive(parameter.value) }
}

output "image_tag_parameter_arns" {
  value = { for name, parameter in aws_ssm_parameter.image_tag : name => parameter.arn }
}

output "signing_key_arns" {
  description = "<service>-<name> => the asymmetric signing key"
  value       = { for name, key in aws_kms_key.signing : name => key.arn }
}

output "signing_certificates_secret_arns" {
  value = { for name, secret in aws_secretsmanager_secret.signing_certificates : name => secret.arn }
}
