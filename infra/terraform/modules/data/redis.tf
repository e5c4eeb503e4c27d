# ElastiCache Redis: TLS in transit, encrypted at rest with the data key, an
# AUTH token, Multi-AZ with automatic failover. The token is in the state
# (the resource has no write-only argument for it): the state bucket is
# KMS-encrypted and readable only by the deploy roles. Services get the whole
# rediss:// URL from a secret (MINDLINKS_REDIS_URL).
resource "random_password" "redis" {
  length  = 64
  special = false
  keepers = { version = var.redis_auth_token_version }
}

resource "aws_security_group" "redis" {
  name        = "${var.name}-redis"
  description = "Redis, reachable from the services only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "redis" {
  for_each                     = toset(var.client_security_group_ids)
  security_group_id            = aws_security_group.redis.id
  description                  = "Redis from the services"
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
}

resource "aws_elasticache_replication_group" "this" {
  #checkov:skip=CKV2_AWS_50:Multi-AZ failover follows redis_replicas (2 in staging and prod; dev runs one node).
  replication_group_id       = var.name
  description                = "Mind-Links refresh tokens, throttles, de-duplication"
  engine                     = "redis"
  engine_version             = "7.1"
  node_type                  = var.redis_node_type
  num_cache_clusters         = var.redis_replicas
  port                       = 6379
  automatic_failover_enabled = var.redis_replicas > 1
  multi_az_enabled           = var.redis_replicas > 1
  subnet_group_name          = aws_elasticache_subnet_group.this.name
  security_group_ids         = [aws_security_group.redis.id]
  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arns["data"]
  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  auth_token                 = random_password.redis.result
  auth_token_update_strategy = "ROTATE"
  snapshot_retention_limit   = 7
  auto_minor_version_upgrade = true
  apply_immediately          = false
}

resource "aws_secretsmanager_secret" "redis_url" {
  #checkov:skip=CKV2_AWS_57:Rotated with the AUTH token (redis_auth_token_version), which ElastiCache rotates without downtime.
  name                    = "${var.resource_prefix}redis-url"
  description             = "rediss:// URL with the AUTH token (MINDLINKS_REDIS_URL)"
  kms_key_id              = var.kms_key_arns["secrets"]
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "redis_url" {
  secret_id                = aws_secretsmanager_secret.redis_url.id
  secret_string_wo         = "rediss://:${random_password.redis.result}@${aws_elasticache_replication_group.this.primary_endpoint_address}:6379/0"
  secret_string_wo_version = var.redis_auth_token_version
}
