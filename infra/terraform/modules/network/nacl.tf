# Network ACLs: a coarse, stateless second layer under the security groups,
# which stay the precise one (which service reaches which). They allow the
# flows the platform has and deny everything else (the implicit final rule):
#
#   public subnets (the NAT gateways only):
#     in   TCP 443         from the private subnets    tasks' HTTPS to the NAT
#     in   TCP 1024-65535  from anywhere               replies to the NAT's ports
#     out  TCP 443         to anywhere                 the NAT to AWS APIs and providers
#     out  TCP 1024-65535  to the private subnets      replies on to the tasks
#   private subnets (tasks, internal ALB, VPC link, Redis):
#     in   TCP listener    from the private subnets    VPC link -> ALB
#     in   TCP 1024-65535  from anywhere               service ports (ALB -> tasks, peer
#                                                      calls), Redis 6379, and every reply
#     out  TCP 443         to anywhere                 AWS APIs (NAT, S3/DynamoDB gateway
#                                                      endpoints), Stripe, SendGrid, ...
#     out  TCP listener    to the private subnets      VPC link -> ALB
#     out  TCP 1024-65535  to the private subnets      ALB -> tasks, peers, Redis, replies
#   both: ICMP "fragmentation needed" in (path MTU discovery through the NAT).
#
# Replies need the ephemeral rules because ACLs keep no state: the NAT
# gateway and the ALB use source ports 1024-65535 (AWS's NACL guidance), so
# the reply ranges cannot be narrower. Nothing outside the VPC can open a
# connection to a private address (no route in, the NAT accepts none), and the
# security groups admit only the ALB, the VPC link and the services.
# DNS needs no rule: ACLs do not filter the Route 53 Resolver (VPC+2), nor
# the Time Sync service or the task metadata endpoint.
resource "aws_network_acl" "public" {
  #checkov:skip=CKV_AWS_231:Port 3389 is inside 1024-65535, the NAT gateway's reply ports, which must be open to the internet; nothing in the public subnets listens.
  vpc_id     = aws_vpc.this.id
  subnet_ids = [for subnet in aws_subnet.public : subnet.id]
  tags       = { Name = "${var.name}-public" }

  ingress {
    rule_no    = 100
    action     = "allow"
    protocol   = "tcp"
    cidr_block = local.private_range
    from_port  = 443
    to_port    = 443
  }

  ingress {
    rule_no    = 110
    action     = "allow"
    protocol   = "tcp"
    cidr_block = "0.0.0.0/0"
    from_port  = 1024
    to_port    = 65535
  }

  ingress {
    rule_no    = 120
    action     = "allow"
    protocol   = "icmp"
    cidr_block = "0.0.0.0/0"
    icmp_type  = 3
    icmp_code  = 4
    from_port  = 0
    to_port    = 0
  }

  egress {
    rule_no    = 100
    action     = "allow"
    protocol   = "tcp"
    cidr_block = "0.0.0.0/0"
    from_port  = 443
    to_port    = 443
  }

  egress {
    rule_no    = 110
    action     = "allow"
    protocol   = "tcp"
    cidr_block = local.private_range
    from_port  = 1024
    to_port    = 65535
  }

  egress {
    rule_no    = 120
    action     = "allow"
    protocol   = "icmp"
    cidr_block = local.private_range
    icmp_type  = 3
    icmp_code  = 4
    from_port  = 0
    to_port    = 0
  }
}

resource "aws_network_acl" "private" {
  #checkov:skip=CKV_AWS_231:Port 3389 is inside 1024-65535, where the replies to the tasks' outbound HTTPS arrive; nothing routes from the internet to these private addresses and no security group admits 3389.
  vpc_id     = aws_vpc.this.id
  subnet_ids = [for subnet in aws_subnet.private : subnet.id]
  tags       = { Name = "${var.name}-private" }

  ingress {
    rule_no    = 100
    action     = "allow"
    protocol   = "tcp"
    cidr_block = local.private_range
    from_port  = var.load_balancer_port
    to_port    = var.load_balancer_port
  }

  ingress {
    rule_no    = 110
    action     = "allow"
    protocol   = "tcp"
    cidr_block = "0.0.0.0/0"
    from_port  = 1024
    to_port    = 65535
  }

  ingress {
    rule_no    = 120
    action     = "allow"
    protocol   = "icmp"
    cidr_block = "0.0.0.0/0"
    icmp_type  = 3
    icmp_code  = 4
    from_port  = 0
    to_port    = 0
  }

  egress {
    rule_no    = 100
    action     = "allow"
    protocol   = "tcp"
    cidr_block = "0.0.0.0/0"
    from_port  = 443
    to_port    = 443
  }

  egress {
    rule_no    = 110
    action     = "allow"
    protocol   = "tcp"
    cidr_block = local.private_range
    from_port  = var.load_balancer_port
    to_port    = var.load_balancer_port
  }

  egress {
    rule_no    = 120
    action     = "allow"
    protocol   = "tcp"
    cidr_block = local.private_range
    from_port  = 1024
    to_port    = 65535
  }
}

# A subnet added without an ACL of its own falls back to the default ACL:
# with no rules, it passes nothing until it is given one.
resource "aws_default_network_acl" "this" {
  default_network_acl_id = aws_vpc.this.default_network_acl_id
  tags                   = { Name = "${var.name}-default-deny" }
}
