# staging: the only file that differs between environments (with backend.hcl).
account_id              = "333333333333"
environment             = "staging"
resource_prefix         = "mindlinks-staging-"
domain_name             = "api.staging.mindlinks.com"
zone_id                 = "Z000000000000STAGING"
public_base_url         = "https://app.staging.mindlinks.com"
vpc_cidr                = "10.20.0.0/16"
single_nat_gateway      = true
redis_node_type         = "cache.t4g.small"
redis_replicas          = 2
log_level               = "INFO"
log_retention_days      = 90
deletion_protection     = true
bake_time_minutes       = 5
throttle_rate_limit     = 200
throttle_burst_limit    = 400
waf_rate_limit          = 2000
alarm_emails            = []
manage_account_settings = true

# AWS Backup: two weeks of dailies, three monthlies.
backup_retention_days = {
  daily   = 14
  monthly = 90
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
