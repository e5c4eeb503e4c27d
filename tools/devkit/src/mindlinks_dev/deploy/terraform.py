"""The Terraform variables of the fleet, from its declaration.

    python -m mindlinks_dev.deploy.terraform --write   # infra/terraform/fleet.auto.tfvars.json
    python -m mindlinks_dev.deploy.terraform --check   # exit 1 when it is out of date

Every environment root (``infra/terraform/envs/<env>``) links this one file;
the platform module's ``for_each`` over ``services``, ``tables``, ``buckets``
and ``subscriptions`` creates one ECS service, target group, listener rule,
task role, log group and alarm set per service, one DynamoDB table per table
(derived outbox/inbox/idempotency included), one bucket per bucket and one
queue + DLQ per service with a queue (a rule feeding it when it consumes
events; EventBridge Scheduler's role may send to it when it has timers).
``task_policies`` holds each service's task role (``mindlinks_dev.iam.policy``),
with references the platform turns into ARNs. Physical names follow the local
bootstrap: ``<prefix><service>-<table>``, queues ``<prefix><service>`` and
``-dlq``, rules ``<prefix><service>-subscriptions``, buckets ``<prefix><bucket>``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from mindlinks_dev.deploy.artifact import main as artifact_main
from mindlinks_dev.deploy.environment import provider_secrets, service_environment, settings_class
from mindlinks_dev.iam.policy import TOKEN_ISSUER, task_policy
from mindlinks_dev.local_authority import certificates_secret
from mindlinks_fleet import FLEET
from mindlinks_kit.declaration import Fleet, Service, Table

PATH = "infra/terraform/fleet.auto.tfvars.json"
MAX_RULE_VALUES = 5
"""An ALB listener rule takes at most five condition values."""


def public_paths(service: Service) -> list[str]:
    """The ALB path patterns of a service: its area and its extra public paths."""
    paths = [f"/v1/{service.area}", f"/v1/{service.area}/*", *service.extra_public_paths]
    if len(paths) > MAX_RULE_VALUES:
        raise ValueError(f"{service.name}: more than {MAX_RULE_VALUES} public path patterns")
    return paths


def table_variables(service: str, table: Table) -> dict[str, Any]:
    attributes = {table.pk.name: table.pk.type}
    if table.sk:
        attributes[table.sk.name] = table.sk.type
    for index in table.indexes:
        attributes[index.pk.name] = index.pk.type
        if index.sk:
            attributes[index.sk.name] = index.sk.type
    return {
        "service": service,
        "hash_key": table.pk.name,
        "range_key": table.sk.name if table.sk else None,
        "attributes": dict(sorted(attributes.items())),
        "indexes": [
            {
                "name": index.name,
                "hash_key": index.pk.name,
                "range_key": index.sk.name if index.sk else None,
            }
            for index in table.indexes
        ],
        "ttl_attribute": table.ttl_attribute,
        "append_only": table.append_only,
    }


def event_pattern(fleet: Fleet, service: Service) -> str | None:
    """The EventBridge pattern of a consumer's rule, as the bootstrap writes
    it; None for a queue only its own timers fire to."""
    if not service.consumes:
        return None
    pattern = {
        "source": sorted({f"mindlinks.{fleet.event(e).producer}" for e in service.consumes}),
        "detail-type": sorted(service.consumes),
    }
    return json.dumps(pattern, separators=(",", ":"))


def service_variables(fleet: Fleet, service: Service, priority: int) -> dict[str, Any]:
    env = service_environment(service, "aws")
    return {
        "port": service.port,
        "area": service.area,
        "public_paths": public_paths(service),
        "priority": priority,
        "cpu": service.sizing.cpu,
        "memory": service.sizing.memory,
        "min_tasks": service.sizing.min_tasks,
        "max_tasks": service.sizing.max_tasks,
        "redis": service.redis,
        "tables": [f"{service.name}-{t.name}" for t in fleet.tables(service.name)],
        "buckets": [b.name for b in service.buckets],
        "consumes": bool(service.queue),
        "timers": bool(service.timers),
        "publishes": bool(fleet.publishes(service.name)),
        "issues_service_tokens": service.name == TOKEN_ISSUER,
        "peers": list(service.peers),
        "environment": env.static,
        "secrets": env.secrets,
        "provider_secrets": list(provider_secrets(settings_class(service.name))),
    }


def variables(fleet: Fleet) -> dict[str, Any]:
    return {
        "bus": fleet.bus,
        "services": {
            s.name: service_variables(fleet, s, priority=10 * (i + 1))
            for i, s in enumerate(fleet.services)
        },
        "tables": {
            f"{s.name}-{t.name}": table_variables(s.name, t)
            for s in fleet.services
            for t in fleet.tables(s.name)
        },
        "buckets": {
            b.name: {"service": s.name, "object_lock": b.object_lock}
            for s in fleet.services
            for b in s.buckets
        },
        # Asymmetric KMS keys one service alone signs with (modules/security/signing.tf).
        "signing_keys": {
            f"{s.name}-{key}": {
                "service": s.name,
                "certificates_secret": certificates_secret(s.name, key),
            }
            for s in fleet.services
            for key in s.signing_keys
        },
        # Apart from ``services``: checkov cannot evaluate a for_each over a map
        # whose entries hold lists of objects, and silently skips what it drives.
        "task_policies": {
            s.name: [statement.variables() for statement in task_policy(fleet, s.name)]
            for s in fleet.services
        },
        "subscriptions": {
            s.name: {
                "event_pattern": event_pattern(fleet, s),
                # as the bootstrap: the consumer dead-letters at max_receives itself
                "max_receive_count": s.max_receives + 2,
                "timers": bool(s.timers),
            }
            for s in fleet.services
            if s.queue
        },
    }


def render(fleet: Fleet = FLEET) -> str:
    return json.dumps(variables(fleet), indent=2) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    return artifact_main("mindlinks_dev.deploy.terraform", PATH, render, argv)


if __name__ == "__main__":
    raise SystemExit(main())
