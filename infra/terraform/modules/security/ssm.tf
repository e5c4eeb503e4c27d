# Plain configuration for tooling (the operator CLI, the deploy workflow).
resource "aws_ssm_parameter" "config" {
  for_each = {
    environment     = var.environment
    resource-prefix = var.resource_prefix
    public-base-url = var.public_base_url
  }
  name   = "/${var.name}/config/${each.key}"
  type   = "SecureString"
  key_id = aws_kms_key.this["secrets"].arn
  value  = each.value
}

# The image tag each service runs: written by the deploy workflow after a
# successful deployment; Terraform reads it back (ignore_changes) so that an
# apply registers task definitions with the deployed image, never an old one.
resource "aws_ssm_parameter" "image_tag" {
  for_each = var.services
  name     = "/${var.name}/image-tag/${each.key}"
  type     = "SecureString"
  key_id   = aws_kms_key.this["secrets"].arn
  value    = "unset"

  lifecycle {
    ignore_changes = [value]
  }
}
