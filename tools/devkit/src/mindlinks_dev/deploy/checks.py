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
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import hcl2

from mindlinks_dev.iam import rules
from mindlinks_dev.iam.policy import ITEM_REWRITES
from mindlinks_kit.declaration import Fleet

DATA_STORES = rules.DATA_STORES
NO_RESOURCE_LEVEL = rules.NO_RESOURCE_LEVEL

Tree = dict[Path, dict[str, Any]]


def unquote(value: Any) -> Any:
    """python-hcl2 keeps the quotes of string literals: drop them."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):  # python-hcl2's __comments__, __is_block__ dropped
        return {unquote(k): unquote(v) for k, v in value.items() if not str(k).startswith("__")}
    return value


def parse_tree(root: Path) -> Tree:
    """Every HCL file under ``root`` (raises ``ValueError`` naming a file that
    does not parse)."""
    tree: Tree = {}
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".tf", ".tfvars") or ".terraform" in path.parts:
            continue
        try:
            with path.open(encoding="utf-8") as file:
                tree[path] = unquote(hcl2.load(file))
        except Exception as exc:
            raise ValueError(f"{path}: does not parse: {exc}") from exc
    return tree


def blocks(
    tree: Tree, kind: str, directory: Path | None = None
) -> Iterator[tuple[Path, str, str, dict[str, Any]]]:
    """(file, type, name, body) of every ``resource``/``data`` block."""
    for path, document in tree.items():
        if directory is not None and path.parent != directory:
            continue
        for entry in document.get(kind, []):
            for type_, named in entry.items():
                for name, body in named.items():
                    yield path, type_, name, body


def named(tree: Tree, kind: str, directory: Path) -> dict[str, dict[str, Any]]:
    """``module``/``variable``/``output`` blocks of one directory by name."""
    found: dict[str, dict[str, Any]] = {}
    for path, document in tree.items():
        if path.parent != directory:
            continue
        for entry in document.get(kind, []):
            found.update(entry)
    return found


def locals_of(tree: Tree, directory: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path, document in tree.items():
        if path.parent == directory:
            for entry in document.get("locals", []):
                found.update(entry)
    return found


def resources_in(tree: Tree, directory: Path) -> dict[tuple[str, str], dict[str, Any]]:
    return {(t, n): body for _, t, n, body in blocks(tree, "resource", directory)}


# --- wiring -------------------------------------------------------------------

PER_SERVICE = {
    "task definition": ("aws_ecs_task_definition", "this"),
    "ECS service": ("aws_ecs_service", "this"),
    "target groups": ("aws_lb_target_group", "this"),
    "listener rule": ("aws_lb_listener_rule", "this"),
    "task role": ("aws_iam_role", "task"),
    "execution role": ("aws_iam_role", "execution"),
    "Cloud Map registration": ("aws_service_discovery_service", "this"),
    "autoscaling target": ("aws_appautoscaling_target", "this"),
    "CPU scaling policy": ("aws_appautoscaling_policy", "cpu"),
    "memory scaling policy": ("aws_appautoscaling_policy", "memory"),
    "request scaling policies": ("aws_appautoscaling_policy", "requests"),
    "scale-in policy": ("aws_appautoscaling_policy", "scale_in"),
}


def expected_variables(fleet: Fleet, variables: Mapping[str, Any]) -> list[str]:
    """The generated variables against the declaration (beyond byte equality:
    what each must carry)."""
    found = []
    services = variables.get("services", {})
    for service in fleet.services:
        entry = services.get(service.name)
        if entry is None:
            found.append(f"services: {service.name} missing")
            continue
        sizing = service.sizing
        want = {
            "port": service.port,
            "cpu": sizing.cpu,
            "memory": sizing.memory,
            "min_tasks": sizing.min_tasks,
            "max_tasks": sizing.max_tasks,
        }
        for key, value in want.items():
            if entry.get(key) != value:
                found.append(
                    f"services.{service.name}.{key} = {entry.get(key)!r}, declared {value!r}"
                )
        tables = [f"{service.name}-{t.name}" for t in fleet.tables(service.name)]
        if entry.get("tables") != tables:
            found.append(f"services.{service.name}.tables differ from the declaration")
        for table in tables:
            if variables.get("tables", {}).get(table, {}).get("service") != service.name:
                found.append(f"tables: {table} missing or not owned by {service.name}")
        for bucket in service.buckets:
            owner = variables.get("buckets", {}).get(bucket.name, {})
            if (
                owner.get("service") != service.name
                or owner.get("object_lock") != bucket.object_lock
            ):
                found.append(f"buckets: {bucket.name} missing or wrong")
        if bool(service.queue) != (service.name in variables.get("subscriptions", {})):
            found.append(f"subscriptions: {service.name} consumes={bool(service.queue)} disagrees")
    extra = set(services) - {s.name for s in fleet.services}
    if extra:
        found.append(f"services not in the declaration: {sorted(extra)}")
    return found


def _expect(found: list[str], condition: bool, problem: str) -> None:
    if not condition:
        found.append(problem)


def wiring_problems(root: Path, tree: Tree, fleet: Fleet) -> list[str]:
    """The platform creates every per-service resource through ``for_each``."""
    found: list[str] = []
    tfvars = root / "fleet.auto.tfvars.json"
    variables = json.loads(tfvars.read_text(encoding="utf-8"))
    found += expected_variables(fleet, variables)

    platform = root / "platform"
    modules = named(tree, "module", platform)
    wanted = {
        "service": ("../modules/ecs-service", "${local.services}"),
        "data": ("../modules/data", None),
        "events": ("../modules/events", None),
        "observability": ("../modules/observability", None),
        "security": ("../modules/security", None),
        "network": ("../modules/network", None),
        "edge": ("../modules/edge", None),
        "registry": ("../modules/registry", None),
        "audit": ("../modules/audit", None),
        "backup": ("../modules/backup", None),
    }
    for name, (source, for_each) in wanted.items():
        module = modules.get(name)
        if module is None:
            found.append(f"platform: module {name} missing")
            continue
        _expect(found, module.get("source") == source, f"platform: module {name} source")
        if for_each:
            _expect(
                found, module.get("for_each") == for_each, f"platform: {name} not for_each services"
            )
    feeds = {
        ("data", "tables"): "${var.tables}",
        ("data", "buckets"): "${var.buckets}",
        ("events", "subscriptions"): "${var.subscriptions}",
        ("events", "bus"): "${var.bus}",
        ("observability", "services"): "${toset(keys(var.services))}",
        ("registry", "services"): "${toset(keys(var.services))}",
    }
    for (module_name, argument), value in feeds.items():
        actual = modules.get(module_name, {}).get(argument)
        _expect(
            found,
            actual == value,
            f"platform: module {module_name}.{argument} = {actual!r}, want {value}",
        )
    services_local = str(locals_of(tree, platform).get("services", ""))
    _expect(
        found,
        "for name, service in var.services" in services_local,
        "platform: local.services is not every generated service",
    )
    target_groups = modules.get("observability", {}).get("target_groups", "")
    _expect(
        found,
        "module.service" in str(target_groups),
        "platform: alarms not fed by every service's target groups",
    )
    service_module = modules.get("service", {})
    for argument, needle in {
        "log_group": "module.observability.log_groups[each.key]",
        "rollback_alarm_names": "module.observability.rollback_alarm_names[each.key]",
        "access": "local.access[each.key]",
        "task_policy": "local.task_policies[each.key]",
    }.items():
        _expect(
            found,
            needle in str(service_module.get(argument)),
            f"platform: service.{argument} not per service",
        )

    ecs = resources_in(tree, root / "modules" / "ecs-service")
    for what, key in PER_SERVICE.items():
        _expect(found, key in ecs, f"ecs-service: no {what} ({key[0]}.{key[1]})")
    task = ecs.get(("aws_ecs_task_definition", "this"), {})
    _expect(
        found,
        task.get("cpu") == "${var.service.cpu}" and task.get("memory") == "${var.service.memory}",
        "task size not from the declaration",
    )
    _expect(
        found,
        "otel" in str(task.get("container_definitions")),
        "task definition: no ADOT collector sidecar",
    )
    _expect(
        found, "awslogs" in str(task.get("container_definitions")), "task definition: no awslogs"
    )

    observability = resources_in(tree, root / "modules" / "observability")
    for key, for_each in {
        ("aws_cloudwatch_log_group", "service"): "${var.services}",
        ("aws_cloudwatch_metric_alarm", "errors"): "${var.target_groups}",
        ("aws_cloudwatch_metric_alarm", "latency"): "${var.target_groups}",
        ("aws_cloudwatch_metric_alarm", "running"): "${var.services}",
    }.items():
        _expect(
            found,
            observability.get(key, {}).get("for_each") == for_each,
            f"observability: {key[0]}.{key[1]} not for_each {for_each}",
        )
    events = resources_in(tree, root / "modules" / "events")
    for key in (
        ("aws_sqs_queue", "this"),
        ("aws_sqs_queue", "dlq"),
        ("aws_cloudwatch_event_rule", "this"),
        ("aws_sqs_queue_policy", "this"),
    ):
        _expect(
            found,
            events.get(key, {}).get("for_each") == "${var.subscriptions}",
            f"events: {key[0]}.{key[1]} not per subscription",
        )
    data = resources_in(tree, root / "modules" / "data")
    _expect(
        found,
        data.get(("aws_dynamodb_table", "this"), {}).get("for_each") == "${var.tables}",
        "data: tables not for_each",
    )
    _expect(
        found,
        data.get(("aws_s3_bucket", "this"), {}).get("for_each") == "${var.buckets}",
        "data: buckets not for_each",
    )

    found += environment_problems(root, tree)
    return found


def environment_problems(root: Path, tree: Tree) -> list[str]:
    """dev, staging and prod: same root files, same variable names, S3 state with locking."""
    found: list[str] = []
    envs = root / "envs"
    names = ("dev", "staging", "prod")
    for file in ("main.tf", "variables.tf"):
        texts = {(envs / env / file).read_text(encoding="utf-8") for env in names}
        _expect(found, len(texts) == 1, f"envs: {file} differs between environments")
    keys = []
    for env in names:
        link = envs / env / "fleet.auto.tfvars.json"
        _expect(
            found,
            link.is_symlink() and link.resolve() == (root / "fleet.auto.tfvars.json").resolve(),
            f"envs/{env}: fleet.auto.tfvars.json is not the generated file",
        )
        values = tree.get(envs / env / "terraform.tfvars", {})
        keys.append(frozenset(values))
        declared = named(tree, "variable", envs / env)
        unknown = set(values) - set(declared)
        _expect(found, not unknown, f"envs/{env}: undeclared variables {sorted(unknown)}")
        _expect(
            found,
            values.get("environment") == env,
            f"envs/{env}: environment = {values.get('environment')!r}",
        )
        backend = (tree.get(envs / env / "main.tf", {}).get("terraform") or [{}])[0].get(
            "backend", [{}]
        )
        s3 = backend[0].get("s3", {}) if backend else {}
        _expect(
            found,
            s3.get("use_lockfile") is True and s3.get("encrypt") is True,
            f"envs/{env}: state not in S3 with use_lockfile and encrypt",
        )
    _expect(found, len(set(keys)) == 1, "envs: the environments set different variables")
    return found


# --- IAM ----------------------------------------------------------------------


def _statements(body: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    yield from body.get("statement", [])
    for dynamic in body.get("dynamic", []):
        for spec in dynamic.values():
            yield from spec.get("content", [])


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _delegates_to_account(statement: Mapping[str, Any]) -> bool:
    """A key policy's statement giving the account (root) the key: IAM decides."""
    for principal in statement.get("principals", []):
        if any(":root" in str(i) for i in _as_list(principal.get("identifiers", []))):
            return True
    return False


def _key_policies(tree: Tree) -> set[tuple[Path, str]]:
    """Policy documents used as KMS key policies (their ``kms:*`` actions act
    on the one key they are attached to)."""
    used = set()
    for path, type_, _, body in blocks(tree, "resource"):
        if type_ == "aws_kms_key":
            match = re.search(r"data\.aws_iam_policy_document\.(\w+)", str(body.get("policy", "")))
            if match:
                used.add((path.parent, match.group(1)))
    return used


def iam_problems(tree: Tree) -> list[str]:
    found: list[str] = []
    key_policies = _key_policies(tree)
    for path, type_, name, body in blocks(tree, "data"):
        if type_ != "aws_iam_policy_document":
            continue
        key_policy = (path.parent, name) in key_policies
        for statement in _statements(body):
            if statement.get("effect", "Allow") != "Allow" or _delegates_to_account(statement):
                continue
            for action in _as_list(statement.get("actions", [])):
                action = str(action)
                service = action.split(":")[0]
                if key_policy and service == "kms":
                    continue
                if action == "*" or ("*" in action and service in DATA_STORES):
                    found.append(f"{path.name}: {name}: wildcard action {action}")
    found += task_role_problems(tree)
    return found


def task_role_problems(tree: Tree) -> list[str]:
    """The execution role names only the ARNs the platform picked for the
    service (``var.access``, ``var.image``, ``var.log_group``), ``"*"`` only
    for actions without resource-level permissions; the task role is its
    generated policy and nothing else."""
    found = []
    for path, type_, name, body in blocks(tree, "data"):
        if type_ != "aws_iam_policy_document" or path.parent.name != "ecs-service":
            continue
        if name == "task":
            dynamics = [spec for d in body.get("dynamic", []) for spec in d.values()]
            generated = [d for d in dynamics if str(d.get("for_each")) == "${var.task_policy}"]
            if body.get("statement") or len(dynamics) != 1 or not generated:
                found.append(f"{path.name}: task: not exactly the generated var.task_policy")
            continue
        if name != "execution":
            continue
        for statement in _statements(body):
            actions = [str(a) for a in _as_list(statement.get("actions", []))]
            for resource in _as_list(statement.get("resources", [])):
                resource = str(resource)
                if resource == "*":
                    if not all(a.startswith(NO_RESOURCE_LEVEL) for a in actions):
                        found.append(f"{path.name}: {name}: '*' resource for {actions}")
                    continue
                if not re.search(r"var\.(access|image|log_group)\.", resource):
                    found.append(
                        f"{path.name}: {name}: resource {resource} is not one of the service's own"
                    )
    return found


def append_only_problems(tree: Tree, variables: Mapping[str, Any], fleet: Fleet) -> list[str]:
    """Every table declared ``append_only`` reaches Terraform as such; its
    owner's generated task policy allows no rewriting action on it and denies
    every one (``mindlinks_dev.iam.rules``); a resource policy on the table
    denies them to everyone else."""
    found: list[str] = []
    for service in fleet.services:
        for table in fleet.tables(service.name):
            physical = f"{service.name}-{table.name}"
            declared = variables.get("tables", {}).get(physical, {}).get("append_only", False)
            if table.append_only and declared is not True:
                found.append(f"tables: {physical} is append-only but its variable says {declared}")
    found += [p for p in rules.problems(variables, fleet) if "deny" in p or "allows" in p]
    found += _append_only_resource_policy_problems(tree)
    return found


def _append_only_resource_policy_problems(tree: Tree) -> list[str]:
    """Each append-only table carries a resource policy denying every
    principal the rewriting actions (operators' own policies included)."""
    policies = {
        name: body
        for _, type_, name, body in blocks(tree, "data")
        if type_ == "aws_iam_policy_document" and "append_only" in str(body.get("for_each", ""))
    }
    attached = [
        body
        for _, type_, _, body in blocks(tree, "resource")
        if type_ == "aws_dynamodb_resource_policy"
        and any(
            f"aws_iam_policy_document.{name}" in f"{body.get('for_each')} {body.get('policy')}"
            for name in policies
        )
    ]
    if not policies or not attached:
        return ["data: append-only tables have no resource policy"]
    denied: set[str] = set()
    owners: list[str] = []
    for body in policies.values():
        for statement in _statements(body):
            everyone = any(
                "*" in _as_list(p.get("identifiers", [])) for p in statement.get("principals", [])
            )
            if statement.get("effect") == "Deny" and everyone and not statement.get("condition"):
                denied |= {str(a) for a in _as_list(statement.get("actions", []))}
            if "dynamodb:PutItem" in _as_list(statement.get("actions", [])):
                owners.append(str(statement.get("condition", "")))
    found = []
    missing = sorted(set(ITEM_REWRITES) - denied)
    if missing:
        found.append(f"data: the append-only resource policy does not deny {missing}")
    # Puts are left to the owner's task role, named as ecs-service names it.
    role = [
        body
        for path, type_, name, body in blocks(tree, "resource")
        if type_ == "aws_iam_role" and name == "task" and path.parent.name == "ecs-service"
    ]
    if not role or role[0].get("name") != "${var.name}-${var.service_name}-task":
        found.append("ecs-service: the task role is not named <name>-<service>-task")
    if not any(
        "aws:PrincipalArn" in o and ":role/${var.name}-${each.value.service}-task" in o
        for o in owners
    ):
        found.append("data: puts on append-only tables are not left to the owner's task role")
    return found


# --- encryption ---------------------------------------------------------------


def _first(body: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key) or [{}]
    first = value[0] if isinstance(value, list) else value
    return first if isinstance(first, dict) else {}


def encryption_problems(tree: Tree) -> list[str]:
    found: list[str] = []
    by_type: dict[str, list[tuple[Path, str, dict[str, Any]]]] = {}
    for path, type_, name, body in blocks(tree, "resource"):
        by_type.setdefault(type_, []).append((path, name, body))

    def each(type_: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for path, name, body in by_type.get(type_, []):
            yield f"{path.parent.name}/{path.name}: {type_}.{name}", body

    for where, body in each("aws_dynamodb_table"):
        sse = _first(body, "server_side_encryption")
        if sse.get("enabled") is not True or not sse.get("kms_key_arn"):
            found.append(f"{where}: not encrypted with a KMS key")
        if _first(body, "point_in_time_recovery").get("enabled") is not True:
            found.append(f"{where}: no point-in-time recovery")
    for where, body in each("aws_sqs_queue"):
        if not body.get("kms_master_key_id") and body.get("sqs_managed_sse_enabled") is not True:
            found.append(f"{where}: not encrypted")
    for where, body in each("aws_sns_topic"):
        if not body.get("kms_master_key_id"):
            found.append(f"{where}: not encrypted")
    for where, body in each("aws_elasticache_replication_group"):
        if (
            body.get("at_rest_encryption_enabled") is not True
            or body.get("transit_encryption_enabled") is not True
        ):
            found.append(f"{where}: not encrypted at rest and in transit")
        if not body.get("auth_token") and not body.get("auth_token_wo"):
            found.append(f"{where}: no AUTH token")
    for where, body in each("aws_cloudwatch_log_group"):
        if not body.get("kms_key_id"):
            found.append(f"{where}: not encrypted")
    for where, body in each("aws_secretsmanager_secret"):
        if not body.get("kms_key_id"):
            found.append(f"{where}: not encrypted with a customer key")
    for where, body in each("aws_cloudwatch_event_bus"):
        if not body.get("kms_key_identifier"):
            found.append(f"{where}: not encrypted with a customer key")
    for where, body in each("aws_ecr_repository"):
        if _first(body, "encryption_configuration").get("encryption_type") != "KMS":
            found.append(f"{where}: not KMS-encrypted")
    for where, body in each("aws_ssm_parameter"):
        if body.get("type") != "SecureString":
            found.append(f"{where}: not a SecureString")
    for where, body in each("aws_kms_key"):
        if body.get("enable_key_rotation") is not True:
            found.append(f"{where}: key rotation off")
    found += _bucket_problems(by_type)
    return found


def _bucket_problems(by_type: Mapping[str, list[tuple[Path, str, dict[str, Any]]]]) -> list[str]:
    """Each bucket has SSE-KMS, versioning and a public access block that
    cover the same instances (same ``for_each``) in the same module."""
    found = []
    companions = {
        "aws_s3_bucket_server_side_encryption_configuration": "SSE-KMS",
        "aws_s3_bucket_versioning": "versioning",
        "aws_s3_bucket_public_access_block": "public access block",
    }
    for path, name, body in by_type.get("aws_s3_bucket", []):
        for companion, what in companions.items():
            matches = [
                b
                for p, _, b in by_type.get(companion, [])
                if p.parent == path.parent
                and (f"aws_s3_bucket.{name}" in str(b.get("bucket")))
                and b.get("for_each") == body.get("for_each")
            ]
            if not matches:
                found.append(f"{path.parent.name}: aws_s3_bucket.{name} has no {what}")
                continue
            config = matches[0]
            if companion.endswith("encryption_configuration"):
                default = _first(_first(config, "rule"), "apply_server_side_encryption_by_default")
                if default.get("sse_algorithm") != "aws:kms" or not default.get(
                    "kms_master_key_id"
                ):
                    found.append(f"{path.parent.name}: aws_s3_bucket.{name} not SSE-KMS")
            versioning = _first(config, "versioning_configuration").get("status")
            if companion.endswith("versioning") and versioning != "Enabled":
                found.append(f"{path.parent.name}: aws_s3_bucket.{name} not versioned")
            if companion.endswith("public_access_block"):
                flags = (
                    "block_public_acls",
                    "block_public_policy",
                    "ignore_public_acls",
                    "restrict_public_buckets",
                )
                if not all(config.get(flag) is True for flag in flags):
                    found.append(
                        f"{path.parent.name}: aws_s3_bucket.{name} public access not blocked"
                    )
        if body.get("object_lock_enabled") not in (None, False):
            locks = [
                b
                for p, _, b in by_type.get("aws_s3_bucket_object_lock_configuration", [])
                if p.parent == path.parent
            ]
            modes = {_first(_first(b, "rule"), "default_retention").get("mode") for b in locks}
            if modes != {"COMPLIANCE"}:
                found.append(
                    f"{path.parent.name}: aws_s3_bucket.{name} Object Lock not in compliance mode"
                )
    return found


# --- autoscaling ----------------------------------------------------------------

SCALE_OUT_PERCENT = 70
SCALE_IN_PERCENT = 30
"""DESIGN §9 and issue 11: out at 70 %, in at 30 %."""

TARGET_TRACKING = {
    "cpu": "ECSServiceAverageCPUUtilization",
    "memory": "ECSServiceAverageMemoryUtilization",
    "requests": "ALBRequestCountPerTarget",
}


def autoscaling_problems(tree: Tree, root: Path) -> list[str]:
    """Each service scales out on CPU, memory and requests per target (one
    policy per blue/green target group) at 70 %, target tracking only adding
    tasks, and scales in through one step policy whose alarm fires at 30 %."""
    found: list[str] = []
    module = root / "modules" / "ecs-service"
    ecs = resources_in(tree, module)
    variables = named(tree, "variable", module)
    _expect(
        found,
        variables.get("scale_out_percent", {}).get("default") == SCALE_OUT_PERCENT,
        f"autoscaling: scale_out_percent is not {SCALE_OUT_PERCENT} %",
    )
    _expect(
        found,
        variables.get("scale_in_percent", {}).get("default") == SCALE_IN_PERCENT,
        f"autoscaling: scale_in_percent is not {SCALE_IN_PERCENT} %",
    )
    for name, metric_type in TARGET_TRACKING.items():
        policy = ecs.get(("aws_appautoscaling_policy", name))
        if policy is None:
            found.append(f"autoscaling: no target tracking on {name}")
            continue
        tracking = _first(policy, "target_tracking_scaling_policy_configuration")
        metric = _first(tracking, "predefined_metric_specification")
        _expect(
            found,
            policy.get("policy_type") == "TargetTrackingScaling"
            and metric.get("predefined_metric_type") == metric_type,
            f"autoscaling: {name} policy does not track {metric_type}",
        )
        # Scale-in belongs to the 30 % step policy; target tracking would
        # remove tasks near 63 % already.
        _expect(
            found,
            tracking.get("disable_scale_in") is True,
            f"autoscaling: {name} target tracking also scales in",
        )
        target = str(tracking.get("target_value"))
        wanted = "local.request_target" if name == "requests" else "var.scale_out_percent"
        _expect(found, wanted in target, f"autoscaling: {name} target is {target}, not {wanted}")
    requests = ecs.get(("aws_appautoscaling_policy", "requests"), {})
    label = str(
        _first(
            _first(requests, "target_tracking_scaling_policy_configuration"),
            "predefined_metric_specification",
        ).get("resource_label")
    )
    _expect(
        found,
        requests.get("for_each") == "${aws_lb_target_group.this}"
        and "var.load_balancer.arn_suffix" in label
        and "each.value.arn_suffix" in label,
        "autoscaling: requests are not tracked on both blue/green target groups",
    )
    target = str(locals_of(tree, module).get("request_target", ""))
    _expect(
        found,
        "var.scale_out_percent" in target,
        "autoscaling: the request target is not scale_out_percent of a task's capacity",
    )
    found += _scale_in_problems(ecs)
    return found


def _scale_in_problems(ecs: Mapping[tuple[str, str], dict[str, Any]]) -> list[str]:
    found: list[str] = []
    policy = ecs.get(("aws_appautoscaling_policy", "scale_in"))
    if policy is None:
        return ["autoscaling: no scale-in policy"]
    step = _first(policy, "step_scaling_policy_configuration")
    adjustment = _first(step, "step_adjustment")
    _expect(
        found,
        policy.get("policy_type") == "StepScaling"
        and isinstance(adjustment.get("scaling_adjustment"), int)
        and adjustment["scaling_adjustment"] < 0,
        "autoscaling: the scale-in policy does not remove tasks",
    )
    alarms = [
        body
        for (type_, _), body in ecs.items()
        if type_ == "aws_cloudwatch_metric_alarm"
        and "aws_appautoscaling_policy.scale_in.arn" in str(body.get("alarm_actions"))
    ]
    if not alarms:
        return [*found, "autoscaling: no alarm triggers the scale-in policy"]
    alarm = alarms[0]
    _expect(
        found,
        alarm.get("comparison_operator") == "LessThanOrEqualToThreshold"
        and alarm.get("threshold") == "${var.scale_in_percent}",
        "autoscaling: the scale-in alarm is not at or under scale_in_percent",
    )
    text = str(alarm.get("metric_query")) + str(alarm.get("dynamic"))
    for metric in ("CPUUtilization", "RequestCountPerTarget"):
        _expect(found, metric in text, f"autoscaling: the scale-in alarm ignores {metric}")
    _expect(
        found,
        "aws_lb_target_group.this" in text,
        "autoscaling: the scale-in alarm does not read both target groups",
    )
    return found


# --- network ACLs ---------------------------------------------------------------

ANYWHERE = "0.0.0.0/0"
PRIVATE = "${local.private_range}"
PUBLIC = "${local.public_range}"
VPC = "${var.cidr_block}"
EPHEMERAL = (1024, 65535)
"""Source ports of the NAT gateway, the ALB and the VPC link (AWS's NACL
guidance): the range replies come back on."""

Flow = tuple[str, str, int, int, str]
"""(peer CIDR, protocol, first port, last port, what it is)."""


def _nacl_flows(
    listener: int, services: tuple[int, int], redis: int
) -> tuple[dict[tuple[str, str], list[Flow]], dict[tuple[str, str], list[Flow]]]:
    """What each tier's ACL must let through, and what it must not."""
    low, high = EPHEMERAL
    required: dict[tuple[str, str], list[Flow]] = {
        ("public", "ingress"): [
            (PRIVATE, "tcp", 443, 443, "tasks' HTTPS to the NAT gateway"),
            (ANYWHERE, "tcp", low, high, "replies to the NAT gateway"),
            (ANYWHERE, "icmp", 0, 0, "path MTU discovery"),
        ],
        ("public", "egress"): [
            (ANYWHERE, "tcp", 443, 443, "the NAT gateway's HTTPS"),
            (PRIVATE, "tcp", low, high, "replies on to the tasks"),
        ],
        ("private", "ingress"): [
            (PRIVATE, "tcp", listener, listener, "VPC link to the ALB"),
            (PRIVATE, "tcp", *services, "ALB and peers to the services"),
            (PRIVATE, "tcp", redis, redis, "services to Redis"),
            (PRIVATE, "tcp", low, high, "replies inside the private subnets"),
            (ANYWHERE, "tcp", low, high, "replies to the tasks' HTTPS"),
            (ANYWHERE, "icmp", 0, 0, "path MTU discovery"),
        ],
        ("private", "egress"): [
            (ANYWHERE, "tcp", 443, 443, "HTTPS to AWS APIs and providers"),
            (PRIVATE, "tcp", listener, listener, "VPC link to the ALB"),
            (PRIVATE, "tcp", *services, "ALB and peers to the services"),
            (PRIVATE, "tcp", redis, redis, "services to Redis"),
            (PRIVATE, "tcp", low, high, "replies inside the private subnets"),
        ],
    }
    outside_in = [
        (ANYWHERE, "tcp", 0, low - 1, "well-known ports from anywhere"),
        (ANYWHERE, "udp", 0, 65535, "UDP from anywhere"),
    ]
    only_https_out = [
        (ANYWHERE, "tcp", 0, 442, "TCP out other than 443"),
        (ANYWHERE, "tcp", 444, 65535, "TCP out other than 443"),
        (ANYWHERE, "udp", 0, 65535, "UDP out"),
    ]
    forbidden: dict[tuple[str, str], list[Flow]] = {
        ("public", "ingress"): outside_in,
        ("public", "egress"): only_https_out,
        ("private", "ingress"): [
            *outside_in,
            (PUBLIC, "tcp", 0, low - 1, "well-known ports from the public subnets"),
        ],
        ("private", "egress"): only_https_out,
    }
    return required, forbidden


def _contains(cidr: str, peer: str) -> bool:
    if cidr in (peer, ANYWHERE):
        return True
    return cidr == VPC and peer in (PRIVATE, PUBLIC, VPC)


def _port(value: Any, values: Mapping[str, int]) -> int:
    if isinstance(value, int):
        return value
    if str(value) in values:
        return values[str(value)]
    raise ValueError(f"unresolvable port {value!r}")


def _allowed(rules: list[dict[str, Any]], peer: str, protocol: str, port: int) -> bool:
    """The first rule (by number) matching the flow decides; none: denied."""
    for rule in rules:
        rule_protocol = {"6": "tcp", "17": "udp", "1": "icmp", "all": "-1"}.get(
            str(rule["protocol"]), str(rule["protocol"])
        )
        if rule_protocol not in ("-1", protocol) or not _contains(rule["cidr_block"], peer):
            continue
        if protocol != "icmp" and rule_protocol != "-1" and not rule["from"] <= port <= rule["to"]:
            continue
        return bool(rule["action"] == "allow")
    return False


def _flow_ports(rules: list[dict[str, Any]], first: int, last: int) -> list[int]:
    """One port per stretch of [first, last] that every rule treats alike."""
    edges = {first}
    for rule in rules:
        for edge in (rule["from"], rule["to"] + 1):
            if first < edge <= last:
                edges.add(edge)
    return sorted(edges)


def network_acl_problems(root: Path, tree: Tree, fleet: Fleet) -> list[str]:
    """Every subnet belongs to a tier ACL that admits the tier's flows (and
    their replies: ACLs keep no state) and refuses the rest; the default ACL
    has no rules, so a subnet left without one passes nothing."""
    found: list[str] = []
    network = root / "modules" / "network"
    resources = resources_in(tree, network)
    acls = {name: body for (type_, name), body in resources.items() if type_ == "aws_network_acl"}
    for (type_, name), body in resources.items():
        if type_ != "aws_subnet":
            continue
        holders = [
            acl for acl, b in acls.items() if f"aws_subnet.{name}" in str(b.get("subnet_ids"))
        ]
        _expect(found, holders == [name], f"network: subnets {name} are not in network ACL {name}")
        _expect(
            found,
            f"local.{name}_range" in str(body.get("cidr_block")),
            f"network: subnets {name} are not carved from local.{name}_range",
        )
    default = resources.get(("aws_default_network_acl", "this"))
    _expect(
        found,
        default is not None and not default.get("ingress") and not default.get("egress"),
        "network: the default network ACL is not managed empty (deny all)",
    )
    values = _nacl_port_values(root, tree)
    _expect(
        found,
        "${var.load_balancer_port}" in values,
        "network: load_balancer_port is not the ALB listener's port",
    )
    services = (min(s.port for s in fleet.services), max(s.port for s in fleet.services))
    redis = resources_in(tree, root / "modules" / "data").get(
        ("aws_elasticache_replication_group", "this"), {}
    )
    required, forbidden = _nacl_flows(
        values.get("${var.load_balancer_port}", -1), services, int(redis.get("port", -1))
    )
    for (tier, direction), flows in required.items():
        if tier not in acls:
            found.append(f"network: no network ACL {tier}")
            continue
        try:
            rules = sorted(
                (
                    {
                        **rule,
                        "from": _port(rule.get("from_port"), values),
                        "to": _port(rule.get("to_port"), values),
                    }
                    for rule in acls[tier].get(direction, [])
                ),
                key=lambda rule: int(rule["rule_no"]),
            )
        except ValueError as exc:
            found.append(f"network: {tier} {direction}: {exc}")
            continue
        for peer, protocol, first, last, what in flows:
            if not all(_allowed(rules, peer, protocol, p) for p in _flow_ports(rules, first, last)):
                found.append(
                    f"network: {tier} {direction} refuses {what} ({protocol} {first}-{last})"
                )
        for peer, protocol, first, last, what in forbidden[(tier, direction)]:
            if any(_allowed(rules, peer, protocol, p) for p in _flow_ports(rules, first, last)):
                found.append(
                    f"network: {tier} {direction} admits {what} ({protocol} {first}-{last})"
                )
    return found


def _nacl_port_values(root: Path, tree: Tree) -> dict[str, int]:
    """The network module's port variables, as the platform sets them: the
    listener's port is the one the ALB listener uses."""
    platform = root / "platform"
    listener = resources_in(tree, platform).get(("aws_lb_listener", "http"), {})
    given = named(tree, "module", platform).get("network", {}).get("load_balancer_port")
    values: dict[str, int] = {}
    if given is not None and given == listener.get("port"):
        match = re.fullmatch(r"\$\{local\.(\w+)\}", str(given))
        port = locals_of(tree, platform).get(match.group(1)) if match else given
        if isinstance(port, int):
            values["${var.load_balancer_port}"] = port
    return values


# --- CloudTrail -----------------------------------------------------------------

ACCESS_LOG_SKIP = re.compile(
    r'resource "aws_s3_bucket" "(\w+)" \{\n(?:[ \t]*#.*\n)*?[ \t]*#checkov:skip=CKV_AWS_18:(.*)\n'
)


def _selectors(trail: Mapping[str, Any]) -> list[dict[str, list[Any]]]:
    """Each advanced event selector as field => its conditions."""
    selectors = []
    for selector in trail.get("advanced_event_selector", []):
        fields: dict[str, list[Any]] = {}
        for field in selector.get("field_selector", []):
            fields[str(field.get("field"))] = [
                f"{key}={value}" for key, value in field.items() if key != "field"
            ]
        selectors.append(fields)
    return selectors


def trail_problems(root: Path, tree: Tree) -> list[str]:
    """One multi-region trail with validated, KMS-encrypted log files records
    every management event and the object-level (data) events of the buckets
    whose server access logs are suppressed because of it (CKV_AWS_18)."""
    found: list[str] = []
    trails = [
        (path, name, body)
        for path, type_, name, body in blocks(tree, "resource")
        if type_ == "aws_cloudtrail"
    ]
    if len(trails) != 1:
        return [f"audit: {len(trails)} CloudTrail trails, want 1"]
    path, name, trail = trails[0]
    for flag in (
        "is_multi_region_trail",
        "include_global_service_events",
        "enable_log_file_validation",
    ):
        _expect(found, trail.get(flag) is True, f"audit: trail {name}: {flag} is not true")
    for argument in ("kms_key_id", "cloud_watch_logs_group_arn"):
        _expect(found, bool(trail.get(argument)), f"audit: trail {name}: no {argument}")
    selectors = _selectors(trail)
    _expect(
        found,
        {"eventCategory": ["equals=['Management']"]} in selectors,
        f"audit: trail {name} does not record every management event",
    )
    data = [
        s
        for s in selectors
        if s.get("eventCategory") == ["equals=['Data']"]
        and s.get("resources.type") == ["equals=['AWS::S3::Object']"]
    ]
    covered = str(data[0].get("resources.ARN")) if data else ""
    _expect(
        found,
        "var.data_event_bucket_arns" in covered
        and set(data[0]) <= {"eventCategory", "resources.type", "resources.ARN"},
        f"audit: trail {name} does not record object reads and writes of data_event_bucket_arns",
    )
    writes = [
        s
        for s in selectors
        if s.get("eventCategory") == ["equals=['Data']"]
        and s.get("resources.type") == ["equals=['AWS::DynamoDB::Table']"]
    ]
    _expect(
        found,
        bool(writes) and "var.append_only_table_arns" in str(writes[0].get("resources.ARN")),
        f"audit: trail {name} does not record writes to append_only_table_arns",
    )
    module = named(tree, "module", root / "platform").get("audit", {})
    _expect(
        found,
        "table.append_only" in str(module.get("append_only_table_arns", "")),
        "platform: the trail is not given the append-only tables",
    )
    given = str(module.get("data_event_bucket_arns", ""))
    state = str(locals_of(tree, root / "platform").get("state_bucket_arn", ""))
    trail_bucket = re.search(r"aws_s3_bucket\.(\w+)", str(trail.get("s3_bucket_name")))
    for file in sorted(tree):
        text = file.read_text(encoding="utf-8")
        for bucket, reason in ACCESS_LOG_SKIP.findall(text):
            where = f"{file.parent.name}: aws_s3_bucket.{bucket}"
            if file.parent == path.parent and trail_bucket and bucket == trail_bucket.group(1):
                continue  # the trail's own bucket: logging it would log itself
            _expect(
                found,
                "CloudTrail" in reason,
                f"{where}: CKV_AWS_18 skipped without CloudTrail as the reason",
            )
            if file.parent.name == "data":
                recorded = "values(module.data.bucket_arns)" in given and _every_bucket(tree, root)
            elif file.parent.name == "bootstrap":
                recorded = "local.state_bucket_arn" in given and "mindlinks-tfstate-" in state
            else:
                recorded = False
            _expect(
                found,
                recorded,
                f"{where}: CKV_AWS_18 relies on the trail, which does not record its data events",
            )
    return found


def _every_bucket(tree: Tree, root: Path) -> bool:
    """The data module's bucket_arns output names every bucket it creates."""
    output = named(tree, "output", root / "modules" / "data").get("bucket_arns", {})
    value = str(output.get("value", ""))
    return "aws_s3_bucket.this" in value and " if " not in value


# --- AWS Backup -----------------------------------------------------------------

BACKUP_POLICIES = (
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
    "AWSBackupServiceRolePolicyForS3Backup",
    "AWSBackupServiceRolePolicyForS3Restore",
)


def backup_problems(root: Path, tree: Tree, variables: Mapping[str, Any]) -> list[str]:
    """A KMS-encrypted vault and a plan whose rules keep recovery points as
    long as the environment says, selecting every table and the ledger's
    digest bucket, through a role with AWS's Backup service-role policies."""
    found: list[str] = []
    module = root / "modules" / "backup"
    backup = resources_in(tree, module)
    vault = backup.get(("aws_backup_vault", "this"), {})
    _expect(
        found, bool(vault.get("kms_key_arn")), "backup: the vault is not encrypted with a KMS key"
    )
    rules = backup.get(("aws_backup_plan", "this"), {}).get("rule", [])
    _expect(found, len(rules) >= 2, "backup: the plan has no daily and monthly rules")
    for rule in rules:
        delete_after = str(_first(rule, "lifecycle").get("delete_after"))
        _expect(
            found,
            "var.retention_days." in delete_after and bool(rule.get("schedule")),
            f"backup: rule {rule.get('rule_name')}: no schedule or no retention_days retention",
        )
    selection = backup.get(("aws_backup_selection", "this"), {})
    chosen = str(selection.get("resources", ""))
    _expect(
        found,
        "var.table_arns" in chosen and "var.bucket_arns" in chosen and " if " not in chosen,
        "backup: the selection is not every table and bucket it is given",
    )
    attached = " ".join(
        f"{body.get('for_each')} {body.get('policy_arn')}"
        for (type_, _), body in backup.items()
        if type_ == "aws_iam_role_policy_attachment"
    )
    for policy in BACKUP_POLICIES:
        _expect(found, f'"{policy}"' in attached, f"backup: the role lacks {policy}")
    platform = named(tree, "module", root / "platform").get("backup", {})
    _expect(
        found,
        platform.get("table_arns") == "${values(module.data.table_arns)}",
        "backup: not every table is in the backup selection",
    )
    tables = str(
        named(tree, "output", root / "modules" / "data").get("table_arns", {}).get("value")
    )
    _expect(
        found,
        "aws_dynamodb_table.this" in tables and " if " not in tables,
        "backup: the data module's table_arns leave tables out",
    )
    buckets = str(platform.get("bucket_arns", ""))
    locked = [
        name for name, bucket in variables.get("buckets", {}).items() if bucket.get("object_lock")
    ]
    _expect(
        found,
        bool(locked)
        and "module.data.bucket_arns" in buckets
        and (
            buckets == "${values(module.data.bucket_arns)}" or "if bucket.object_lock]" in buckets
        ),
        f"backup: the ledger's digest bucket ({', '.join(locked)}) is not in the backup selection",
    )
    _expect(
        found,
        platform.get("retention_days") == "${var.backup_retention_days}",
        "backup: retention is not the environment's backup_retention_days",
    )
    for env in ("dev", "staging", "prod"):
        retention = tree.get(root / "envs" / env / "terraform.tfvars", {}).get(
            "backup_retention_days"
        )
        ok = (
            isinstance(retention, dict)
            and isinstance(retention.get("daily"), int)
            and isinstance(retention.get("monthly"), int)
            and 1 <= retention["daily"] <= retention["monthly"]
        )
        _expect(
            found, ok, f"envs/{env}: backup_retention_days does not state daily <= monthly days"
        )
    return found


# --- log groups -----------------------------------------------------------------


def log_group_problems(root: Path, tree: Tree) -> list[str]:
    """Services log to /aws/ecs/<name>/<service>; the task definition's awslogs
    driver and the execution role name that same group."""
    found: list[str] = []
    group = resources_in(tree, root / "modules" / "observability").get(
        ("aws_cloudwatch_log_group", "service"), {}
    )
    _expect(
        found,
        group.get("name") == "/aws/ecs/${var.name}/${each.key}",
        f"observability: log groups are {group.get('name')!r}, not /aws/ecs/<name>/<service>",
    )
    ecs = root / "modules" / "ecs-service"
    options = locals_of(tree, ecs).get("log_options", {})
    _expect(
        found,
        isinstance(options, dict) and options.get("awslogs-group") == "${var.log_group.name}",
        "ecs-service: awslogs does not write the service's log group",
    )
    task = resources_in(tree, ecs).get(("aws_ecs_task_definition", "this"), {})
    _expect(
        found,
        str(task.get("container_definitions")).count("local.log_options") == 2,
        "ecs-service: a container does not log with the service's awslogs options",
    )
    writes = [
        statement
        for _, type_, name, body in blocks(tree, "data", ecs)
        if type_ == "aws_iam_policy_document" and name == "execution"
        for statement in _statements(body)
        if "logs:PutLogEvents" in _as_list(statement.get("actions", []))
    ]
    _expect(
        found,
        len(writes) == 1 and writes[0].get("resources") == ["${var.log_group.arn}:*"],
        "ecs-service: the execution role does not write exactly the service's log group",
    )
    return found
