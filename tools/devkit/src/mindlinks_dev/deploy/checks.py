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
  offers it) and every bucket is versioned with public access blocked.
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
    "autoscaling policy": ("aws_appautoscaling_policy", "cpu"),
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
    policy = ecs.get(("aws_appautoscaling_policy", "cpu"), {})
    tracking = (policy.get("target_tracking_scaling_policy_configuration") or [{}])[0]
    metric = (tracking.get("predefined_metric_specification") or [{}])[0]
    _expect(
        found,
        metric.get("predefined_metric_type") == "ECSServiceAverageCPUUtilization",
        "autoscaling: not on CPU",
    )
    cpu_target = named(tree, "variable", root / "modules" / "ecs-service").get("cpu_target", {})
    _expect(found, cpu_target.get("default") == 70, "autoscaling: CPU target is not 70 %")
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
