"""Wiring: the generated variables carry the fleet declaration, the platform
creates every per-service resource through ``for_each``, and the environment
roots differ only in variables."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mindlinks_dev.deploy.checks.tree import Tree, expect, locals_of, named, resources_in
from mindlinks_kit.declaration import Fleet

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
        expect(found, module.get("source") == source, f"platform: module {name} source")
        if for_each:
            expect(
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
        expect(
            found,
            actual == value,
            f"platform: module {module_name}.{argument} = {actual!r}, want {value}",
        )
    services_local = str(locals_of(tree, platform).get("services", ""))
    expect(
        found,
        "for name, service in var.services" in services_local,
        "platform: local.services is not every generated service",
    )
    target_groups = modules.get("observability", {}).get("target_groups", "")
    expect(
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
        expect(
            found,
            needle in str(service_module.get(argument)),
            f"platform: service.{argument} not per service",
        )

    ecs = resources_in(tree, root / "modules" / "ecs-service")
    for what, key in PER_SERVICE.items():
        expect(found, key in ecs, f"ecs-service: no {what} ({key[0]}.{key[1]})")
    task = ecs.get(("aws_ecs_task_definition", "this"), {})
    expect(
        found,
        task.get("cpu") == "${var.service.cpu}" and task.get("memory") == "${var.service.memory}",
        "task size not from the declaration",
    )
    expect(
        found,
        "otel" in str(task.get("container_definitions")),
        "task definition: no ADOT collector sidecar",
    )
    expect(
        found, "awslogs" in str(task.get("container_definitions")), "task definition: no awslogs"
    )

    observability = resources_in(tree, root / "modules" / "observability")
    for key, for_each in {
        ("aws_cloudwatch_log_group", "service"): "${var.services}",
        ("aws_cloudwatch_metric_alarm", "errors"): "${var.target_groups}",
        ("aws_cloudwatch_metric_alarm", "latency"): "${var.target_groups}",
        ("aws_cloudwatch_metric_alarm", "running"): "${var.services}",
    }.items():
        expect(
            found,
            observability.get(key, {}).get("for_each") == for_each,
            f"observability: {key[0]}.{key[1]} not for_each {for_each}",
        )
    events = resources_in(tree, root / "modules" / "events")
    for key, each in (
        (("aws_sqs_queue", "this"), "${var.subscriptions}"),
        (("aws_sqs_queue", "dlq"), "${var.subscriptions}"),
        # A rule only where the service consumes events (not for timers alone).
        (("aws_cloudwatch_event_rule", "this"), "${local.consumers}"),
        (("aws_sqs_queue_policy", "this"), "${local.consumers}"),
    ):
        expect(
            found,
            events.get(key, {}).get("for_each") == each,
            f"events: {key[0]}.{key[1]} not per subscription",
        )
    data = resources_in(tree, root / "modules" / "data")
    expect(
        found,
        data.get(("aws_dynamodb_table", "this"), {}).get("for_each") == "${var.tables}",
        "data: tables not for_each",
    )
    expect(
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
        expect(found, len(texts) == 1, f"envs: {file} differs between environments")
    keys = []
    for env in names:
        link = envs / env / "fleet.auto.tfvars.json"
        expect(
            found,
            link.is_symlink() and link.resolve() == (root / "fleet.auto.tfvars.json").resolve(),
            f"envs/{env}: fleet.auto.tfvars.json is not the generated file",
        )
        values = tree.get(envs / env / "terraform.tfvars", {})
        keys.append(frozenset(values))
        declared = named(tree, "variable", envs / env)
        unknown = set(values) - set(declared)
        expect(found, not unknown, f"envs/{env}: undeclared variables {sorted(unknown)}")
        expect(
            found,
            values.get("environment") == env,
            f"envs/{env}: environment = {values.get('environment')!r}",
        )
        backend = (tree.get(envs / env / "main.tf", {}).get("terraform") or [{}])[0].get(
            "backend", [{}]
        )
        s3 = backend[0].get("s3", {}) if backend else {}
        expect(
            found,
            s3.get("use_lockfile") is True and s3.get("encrypt") is True,
            f"envs/{env}: state not in S3 with use_lockfile and encrypt",
        )
    expect(found, len(set(keys)) == 1, "envs: the environments set different variables")
    return found
