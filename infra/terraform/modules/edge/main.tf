# The public edge: API Gateway REST API on the custom domain (ACM certificate,
# TLS 1.2+), WAF (rate limit per IP + AWS managed rules), stage throttling and
# JSON access logs, reaching the internal ALB privately through a VPC link v2
# (REST APIs integrate with an ALB directly since Nov 2025: integration_target
# names the ALB, no NLB in front). The ALB's path rules are the allow-list:
# /v1/<area>/... and each service's extra public paths; everything else,
# /internal/... and /health/... included, gets its 404.

resource "aws_security_group" "vpc_link" {
  name        = "${var.name}-vpc-link"
  description = "API Gateway VPC link: egress to the internal ALB only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_egress_rule" "vpc_link_to_alb" {
  security_group_id            = aws_security_group.vpc_link.id
  description                  = "To the internal ALB"
  referenced_security_group_id = var.load_balancer.security_group_id
  ip_protocol                  = "tcp"
  from_port                    = var.load_balancer.port
  to_port                      = var.load_balancer.port
}

resource "aws_vpc_security_group_ingress_rule" "alb_from_vpc_link" {
  #checkov:skip=CKV_AWS_260:The source is the VPC link's security group, not 0.0.0.0/0.
  security_group_id            = var.load_balancer.security_group_id
  description                  = "From the API Gateway VPC link"
  referenced_security_group_id = aws_security_group.vpc_link.id
  ip_protocol                  = "tcp"
  from_port                    = var.load_balancer.port
  to_port                      = var.load_balancer.port
}

resource "aws_apigatewayv2_vpc_link" "this" {
  name               = var.name
  subnet_ids         = var.subnet_ids
  security_group_ids = [aws_security_group.vpc_link.id]
}

resource "aws_api_gateway_rest_api" "this" {
  name                         = var.name
  description                  = "Mind-Links public API"
  disable_execute_api_endpoint = true
  binary_media_types           = ["*/*"] # proxy every body byte for byte (PDFs, uploads)

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_resource" "proxy" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "{proxy+}"
}

resource "aws_api_gateway_method" "proxy" {
  #checkov:skip=CKV_AWS_59:Every service verifies the caller's JWT itself (zero trust, DESIGN §5); register/login/webhooks must be anonymous.
  #checkov:skip=CKV2_AWS_53:Request validation is the services' (pydantic); the proxy method has no model.
  rest_api_id        = aws_api_gateway_rest_api.this.id
  resource_id        = aws_api_gateway_resource.proxy.id
  http_method        = "ANY"
  authorization      = "NONE"
  request_parameters = { "method.request.path.proxy" = true }
}

resource "aws_api_gateway_integration" "proxy" {
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_resource.proxy.id
  http_method             = aws_api_gateway_method.proxy.http_method
  type                    = "HTTP_PROXY"
  integration_http_method = "ANY"
  connection_type         = "VPC_LINK"
  connection_id           = aws_apigatewayv2_vpc_link.this.id
  integration_target      = var.load_balancer.arn
  uri                     = "http://${var.load_balancer.dns_name}/{proxy}"
  request_parameters      = { "integration.request.path.proxy" = "method.request.path.proxy" }
  timeout_milliseconds    = 29000
}

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id

  triggers = {
    redeployment = sha1(jsonencode([
      aws_api_gateway_resource.proxy.id,
      aws_api_gateway_method.proxy,
      aws_api_gateway_integration.proxy,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "access" {
  #checkov:skip=CKV_AWS_338:Retention is an environment variable: 365 days in prod, shorter in dev and staging.
  name              = "/mindlinks/${var.name}/api-access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
}

resource "aws_api_gateway_stage" "live" {
  #checkov:skip=CKV2_AWS_77:Log4j is covered by AWSManagedRulesKnownBadInputsRuleSet; the AnonymousIpList group the check also wants would block providers' webhooks sent from cloud hosting ranges.
  #checkov:skip=CKV_AWS_120:Responses are per caller (JWT); a stage cache would need per-user keys and buys little.
  #checkov:skip=CKV2_AWS_51:The backend is private (VPC link to an internal ALB); a client certificate authenticates nothing more.
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = "live"
  xray_tracing_enabled = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId     = "$context.requestId"
      ip            = "$context.identity.sourceIp"
      requestTime   = "$context.requestTime"
      method        = "$context.httpMethod"
      path          = "$context.path"
      status        = "$context.status"
      latencyMs     = "$context.responseLatency"
      integrationMs = "$context.integration.latency"
      responseBytes = "$context.responseLength"
      userAgent     = "$context.identity.userAgent"
      wafStatus     = "$context.waf.status"
      xrayTraceId   = "$context.xrayTraceId"
    })
  }

  depends_on = [aws_api_gateway_account.this]
}

resource "aws_api_gateway_method_settings" "all" {
  #checkov:skip=CKV_AWS_225:No stage cache: responses are per caller (see CKV_AWS_120 on the stage).
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.live.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    logging_level          = "ERROR"
    data_trace_enabled     = false
    throttling_rate_limit  = var.throttle_rate_limit
    throttling_burst_limit = var.throttle_burst_limit
    caching_enabled        = false
  }
}

# API Gateway writes logs through one account-wide role.
data "aws_iam_policy_document" "apigateway_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "apigateway_logs" {
  count              = var.manage_account_settings ? 1 : 0
  name               = "${var.name}-apigateway-logs"
  assume_role_policy = data.aws_iam_policy_document.apigateway_assume.json
}

resource "aws_iam_role_policy_attachment" "apigateway_logs" {
  count      = var.manage_account_settings ? 1 : 0
  role       = aws_iam_role.apigateway_logs[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

data "aws_partition" "current" {}

resource "aws_api_gateway_account" "this" {
  count               = var.manage_account_settings ? 1 : 0
  cloudwatch_role_arn = aws_iam_role.apigateway_logs[0].arn
  depends_on          = [aws_iam_role_policy_attachment.apigateway_logs]
}
