# The task roles' policies: generated from the fleet declaration
# (tools/devkit/src/mindlinks_dev/iam/policy.py → task_policies), whose
# statements name resources by reference; here each reference becomes this
# environment's ARN. The test suite holds every AWS call the services make
# against the same statements.
locals {
  # Every reference a generated task policy may name (mindlinks_dev.iam.policy),
  # as this environment's ARN.
  resource_arns = merge(
    { "*" = "*" },
    { for table, arn in module.data.table_arns : "table/${table}" => arn },
    { for table, arn in module.data.table_arns : "table/${table}/index/*" => "${arn}/index/*" },
    { for bucket, arn in module.data.bucket_arns : "bucket/${bucket}" => arn },
    { for bucket, arn in module.data.bucket_arns : "bucket/${bucket}/*" => "${arn}/*" },
    { for name, arn in module.events.queue_arns : "queue/${name}" => arn },
    { for name, arn in module.events.dlq_arns : "queue/${name}-dlq" => arn },
    { "bus/${var.bus}" = module.events.bus_arn },
    { for name, arn in module.security.service_secret_arns : "secret/service/${name}" => arn },
    { "secret/auth/signing-keys" = module.security.signing_keys_secret_arn },
    { for purpose, arn in module.security.kms_key_arns : "key/${purpose}" => arn },
    { for name, arn in module.security.signing_key_arns : "key/${name}" => arn },
    {
      for name, key in var.signing_keys : "secret/${key.certificates_secret}" =>
      module.security.signing_certificates_secret_arns[name]
    },
    # A service's timers' schedules (their names start with the service's).
    {
      for name, queue in var.subscriptions : "schedule/timers/${name}-*" =>
      "arn:${data.aws_partition.current.partition}:scheduler:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:schedule/${var.resource_prefix}timers/${name}-*"
      if queue.timers
    },
    module.events.timers_role_arn == null ? {} : { "role/timers" = module.events.timers_role_arn },
  )
  task_policies = {
    for name in keys(local.services) : name => [
      for statement in var.task_policies[name] : merge(statement, {
        resources = [for ref in statement.resources : local.resource_arns[ref]]
      })
    ]
  }
}
