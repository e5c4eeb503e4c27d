# An environment root: state backend, provider, and the platform module with
# this environment's variables (terraform.tfvars) and the fleet's
# (fleet.auto.tfvars.json, generated). Every environment links this one file
# (envs/<env>/main.tf -> ../common/main.tf): only the variables differ.
#
#   terraform init -backend-config=backend.hcl
#   terraform apply
terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.28, < 7.0"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.7, < 4.0"
    }
    tls = {
      source  = "hashicorp/tls"
      version = ">= 4.1, < 5.0"
    }
  }

  # Bucket and region come from backend.hcl; S3-native locking (no DynamoDB).
  backend "s3" {
    key          = "mindlinks/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      Project     = "mindlinks"
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}

module "platform" {
  source                  = "../../platform"
  environment             = var.environment
  resource_prefix         = var.resource_prefix
  domain_name             = var.domain_name
  zone_id                 = var.zone_id
  public_base_url         = var.public_base_url
  vpc_cidr                = var.vpc_cidr
  single_nat_gateway      = var.single_nat_gateway
  redis_node_type         = var.redis_node_type
  redis_replicas          = var.redis_replicas
  log_level               = var.log_level
  log_retention_days      = var.log_retention_days
  deletion_protection     = var.deletion_protection
  backup_retention_days   = var.backup_retention_days
  bake_time_minutes       = var.bake_time_minutes
  throttle_rate_limit     = var.throttle_rate_limit
  throttle_burst_limit    = var.throttle_burst_limit
  waf_rate_limit          = var.waf_rate_limit
  alarm_emails            = var.alarm_emails
  provider_secrets        = var.provider_secrets
  service_environment     = var.service_environment
  manage_account_settings = var.manage_account_settings
  initial_image_tag       = var.initial_image_tag
  bus                     = var.bus
  services                = var.services
  task_policies           = var.task_policies
  tables                  = var.tables
  buckets                 = var.buckets
  subscriptions           = var.subscriptions
  signing_keys            = var.signing_keys
}

output "api_url" {
  value = module.platform.api_url
}

output "cluster_name" {
  value = module.platform.cluster_name
}

output "repository_urls" {
  value = module.platform.repository_urls
}

output "alarm_topic_arn" {
  value = module.platform.alarm_topic_arn
}
