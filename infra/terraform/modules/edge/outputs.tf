output "url" {
  value = "https://${var.domain_name}"
}

output "rest_api_id" {
  value = aws_api_gateway_rest_api.this.id
}

output "stage_arn" {
  value = aws_api_gateway_stage.live.arn
}

output "web_acl_arn" {
  value = aws_wafv2_web_acl.api.arn
}
