# prod: the only file that differs between environments (with backend.hcl).
account_id              = "222222222222"
environment             = "prod"
resource_prefix         = "mindlinks-prod-"
domain_name             = "api.mindlinks.com"
zone_id                 = "Z00000000000000PROD"
public_base_url         = "https://app.mindlinks.com"
vpc_cidr                = "10.30.0.0/16"
single_nat_gateway      = false
redis_node_type         = "cache.t4g.small"
redis_replicas          = 2
log_level               = "INFO"
log_retention_days      = 365
deletion_protection     = true
bake_time_minutes       = 15
throttle_rate_limit     = 500
throttle_burst_limit    = 1000
waf_rate_limit          = 2000
alarm_emails            = ["oncall@mindlinks.com"]
manage_account_settings = true

# AWS Backup: 35 days of dailies (as long as PITR), 12 monthlies.
backup_retention_days = {
  daily   = 35
  monthly = 365
}

# Outside providers: the keys this environment sets (values: put into the
# secret <prefix>config/<service> as JSON, see infra/README.md) and their plain settings.
provider_secrets = {
  client       = ["MINDLINKS_OPENCORPORATES_API_TOKEN"]
  kyc          = ["MINDLINKS_VERIFF_API_KEY", "MINDLINKS_VERIFF_SHARED_SECRET"]
  payment      = ["MINDLINKS_STRIPE_API_KEY", "MINDLINKS_STRIPE_WEBHOOK_SECRET"]
  notification = ["MINDLINKS_SENDGRID_API_KEY"]
}
service_environment = {
  kyc = { MINDLINKS_KYC_PROVIDER = "veriff" }
  # The RFC 3161 time-stamp authority of the final PDFs' seal (docs/adr/0013-sealed-pdfs.md).
  signature = { MINDLINKS_SEAL_TIMESTAMP_URL = "http://timestamp.digicert.com" }
}
