# What the services share: the ECS cluster, the Cloud Map namespace their
# peers resolve (<name>.mindlinks.internal), the internal ALB API Gateway
# reaches through the VPC link, and their security group.
resource "aws_ecs_cluster" "this" {
  name = "mindlinks-cluster"

  setting {
    name  = "containerInsights"
    value = "enhanced"
  }
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}

resource "aws_service_discovery_private_dns_namespace" "this" {
  name        = "mindlinks.internal"
  description = "Service discovery of the Mind-Links services"
  vpc         = module.network.vpc_id
}

resource "aws_security_group" "services" {
  name        = "${local.name}-services"
  description = "Mind-Links services: from the ALB and from each other"
  vpc_id      = module.network.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "services_from_each_other" {
  security_group_id            = aws_security_group.services.id
  description                  = "Peer calls over Cloud Map"
  referenced_security_group_id = aws_security_group.services.id
  ip_protocol                  = "tcp"
  from_port                    = local.port_range.from
  to_port                      = local.port_range.to
}

resource "aws_vpc_security_group_ingress_rule" "services_from_alb" {
  security_group_id            = aws_security_group.services.id
  description                  = "Public requests through the ALB"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = local.port_range.from
  to_port                      = local.port_range.to
}

resource "aws_vpc_security_group_egress_rule" "services_out" {
  #checkov:skip=CKV_AWS_382:Tasks call AWS APIs, Stripe, SendGrid, Veriff/Onfido and OpenCorporates over HTTPS through the NAT; their addresses are not fixed.
  security_group_id = aws_security_group.services.id
  description       = "Everything out (AWS APIs, providers, peers, Redis)"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_security_group" "alb" {
  name        = "${local.name}-alb"
  description = "Internal ALB: from the API Gateway VPC link only"
  vpc_id      = module.network.vpc_id
}

resource "aws_vpc_security_group_egress_rule" "alb_to_services" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the services"
  referenced_security_group_id = aws_security_group.services.id
  ip_protocol                  = "tcp"
  from_port                    = local.port_range.from
  to_port                      = local.port_range.to
}

resource "aws_lb" "internal" {
  #checkov:skip=CKV_AWS_91:API Gateway access logs record every public request; the internal ALB's logs would repeat them.
  #checkov:skip=CKV2_AWS_28:WAF sits on the API Gateway stage in front of this internal ALB.
  #checkov:skip=CKV_AWS_150:deletion_protection is an environment variable (true in staging and prod).
  #checkov:skip=CKV2_AWS_20:Internal ALB reached only through the VPC link; TLS terminates at API Gateway.
  name                       = "${local.name}-internal"
  internal                   = true
  load_balancer_type         = "application"
  subnets                    = module.network.private_subnet_ids
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  idle_timeout               = 35
}

resource "aws_lb_listener" "http" {
  #checkov:skip=CKV_AWS_2:Internal listener behind API Gateway's VPC link; TLS terminates at API Gateway (TLS 1.2+).
  #checkov:skip=CKV_AWS_103:No TLS on this internal listener (see CKV_AWS_2).
  load_balancer_arn = aws_lb.internal.arn
  port              = local.listener_port
  protocol          = "HTTP"

  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "application/problem+json"
      message_body = jsonencode({ type = "about:blank", title = "Not Found", status = 404 })
      status_code  = "404"
    }
  }
}

# ECS shifts traffic between a service's blue and green target groups.
data "aws_iam_policy_document" "ecs_infrastructure_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "ecs_load_balancers" {
  name               = "${local.name}-ecs-load-balancers"
  assume_role_policy = data.aws_iam_policy_document.ecs_infrastructure_assume.json
}

resource "aws_iam_role_policy_attachment" "ecs_load_balancers" {
  role       = aws_iam_role.ecs_load_balancers.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSInfrastructureRolePolicyForLoadBalancers"
}
