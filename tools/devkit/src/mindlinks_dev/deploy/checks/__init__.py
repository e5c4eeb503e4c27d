"""Static checks of the Terraform tree against the fleet declaration.

What a reviewer would check by hand before a first ``terraform apply``, as
functions returning problems (empty: fine), run by the tests on the committed
tree and on copies with planted defects:

- ``parse_tree``: every ``.tf``/``.tfvars`` parses (python-hcl2);
- ``wiring_problems``: the generated variables carry every service, table,
  bucket and subscription of the declaration, and the platform wires them
  through ``for_each`` into the modules that create, per service, the task
  definition, ECS service, target groups, listener rule, task role, log group
  and alarms; environment roots differ only in variables;
- ``iam_problems``: Allow statements name no wildcard action on a data store
  (DynamoDB, S3, SQS, Secrets Manager, KMS, EventBridge, SSM, ElastiCache);
  the execution role names only the service's own resources, and the task
  role is exactly its generated policy (``mindlinks_dev.iam.rules`` checks
  that one);
- ``encryption_problems``: every data store is encrypted (KMS where AWS
  offers it) and every bucket is versioned with public access blocked;
- ``autoscaling_problems``: each service scales out on CPU, memory and
  requests per target (both blue/green target groups) at 70 % and in at 30 %;
- ``network_acl_problems``: every subnet has a network ACL that admits the
  platform's flows, their replies and nothing else from outside;
- ``trail_problems``: a multi-region, validated, KMS-encrypted trail records
  management events and the data events of every bucket whose access logging
  is suppressed for that reason;
- ``backup_problems``: AWS Backup covers every table and the ledger's digest
  bucket with a stated retention per environment;
- ``log_group_problems``: services log to ``/aws/ecs/<name>/<service>``, the
  group the task definition and the execution role name.

One module per concern (``tree`` reads the parsed files for all of them);
callers use the names re-exported here.
"""

from mindlinks_dev.deploy.checks.audit import ACCESS_LOG_SKIP, log_group_problems, trail_problems
from mindlinks_dev.deploy.checks.backup import BACKUP_POLICIES, backup_problems
from mindlinks_dev.deploy.checks.encryption import encryption_problems
from mindlinks_dev.deploy.checks.iam import (
    DATA_STORES,
    NO_RESOURCE_LEVEL,
    append_only_problems,
    iam_problems,
    task_role_problems,
)
from mindlinks_dev.deploy.checks.network import (
    ANYWHERE,
    EPHEMERAL,
    PRIVATE,
    PUBLIC,
    VPC,
    Flow,
    network_acl_problems,
)
from mindlinks_dev.deploy.checks.scaling import (
    SCALE_IN_PERCENT,
    SCALE_OUT_PERCENT,
    TARGET_TRACKING,
    autoscaling_problems,
)
from mindlinks_dev.deploy.checks.tree import (
    Tree,
    blocks,
    locals_of,
    named,
    parse_tree,
    resources_in,
    unquote,
)
from mindlinks_dev.deploy.checks.wiring import (
    PER_SERVICE,
    environment_problems,
    expected_variables,
    wiring_problems,
)

__all__ = [
    "ACCESS_LOG_SKIP",
    "ANYWHERE",
    "BACKUP_POLICIES",
    "DATA_STORES",
    "EPHEMERAL",
    "NO_RESOURCE_LEVEL",
    "PER_SERVICE",
    "PRIVATE",
    "PUBLIC",
    "SCALE_IN_PERCENT",
    "SCALE_OUT_PERCENT",
    "TARGET_TRACKING",
    "VPC",
    "Flow",
    "Tree",
    "append_only_problems",
    "autoscaling_problems",
    "backup_problems",
    "blocks",
    "encryption_problems",
    "environment_problems",
    "expected_variables",
    "iam_problems",
    "locals_of",
    "log_group_problems",
    "named",
    "network_acl_problems",
    "parse_tree",
    "resources_in",
    "task_role_problems",
    "trail_problems",
    "unquote",
    "wiring_problems",
]
