# dev: the only file that differs between environments (with backend.hcl).
account_id              = "111111111111"
environment             = "dev"
resource_prefix         = "mindlinks-dev-"
domain_name             = "api.dev.mindlinks.com"
zone_id                 = "Z0000000000000000DEV"
public_base_url         = "https://app.dev.mindlinks.com"
vpc_cidr                = "10.10.0.0/16"
single_nat_gateway      = true
redis_node_type         = "cache.t4g.micro"
redis_replicas          = 1
log_level               = "DEBUG"
log_retention_days      = 30
deletion_protection     = false
bake_time_minutes       = 1
throttle_rate_limit     = 50
throttle_burst_limit    = 100
waf_rate_limit          = 1000
alarm_emails            = []
manage_account_settings = true

# AWS Backup: a week of dailies, one monthly.
backup_retention_days = {
  daily   = 7
  monthly = 31
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
