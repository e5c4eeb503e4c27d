"""Least privilege, read off the generated task policies.

``problems(variables, fleet)`` checks each service's policy in
``task_policies`` of ``fleet.auto.tfvars.json`` (what Terraform gives its task role):

- no Allow names a wildcard action on a data store, nor ``*`` as an action;
- ``"*"`` as a resource only for actions AWS authorises on nothing narrower;
- every resource is one of the service's own: its tables and their indexes,
  its buckets, its queue and dead-letter queue, the bus when it publishes, its
  own service secret (the token issuer: every service's, and the signing
  keys), a platform key, and with timers its own schedules and the role the
  scheduler sends firings with (passed to the scheduler only);
- an append-only table is allowed no rewriting action and explicitly denied
  every one (``policy.REWRITES``).

The permission check (``mindlinks_dev.iam.check``) proves the other half:
every grant the code needs is there.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from mindlinks_dev.iam.policy import REWRITES, SCHEDULER_ROLE, TOKEN_ISSUER
from mindlinks_dev.local_authority import certificates_secret
from mindlinks_kit.declaration import Fleet
from mindlinks_kit.timer_schedules import SCHEDULE_GROUP

DATA_STORES = (
    "dynamodb",
    "s3",
    "sqs",
    "secretsmanager",
    "kms",
    "events",
    "ssm",
    "elasticache",
    "scheduler",
    "iam",
)
NO_RESOURCE_LEVEL = ("xray:", "ecr:GetAuthorizationToken")
"""Actions AWS authorises only on ``"*"``."""
KEYS = ("key/data", "key/secrets", "key/messaging")


def wildcard_on_a_store(action: str) -> bool:
    """``*`` itself, or a wildcard action on a data store (``dynamodb:*Item``)."""
    return action == "*" or ("*" in action and action.split(":")[0] in DATA_STORES)


def unscoped_only(actions: list[str]) -> bool:
    """Whether every action is one AWS authorises only on ``"*"``."""
    return all(a.startswith(NO_RESOURCE_LEVEL) for a in actions)


def own_resources(fleet: Fleet, service: str) -> set[str]:
    """The references ``service``'s role may name."""
    spec = fleet.service(service)
    own = set(KEYS)
    for table in fleet.tables(service):
        own |= {f"table/{service}-{table.name}", f"table/{service}-{table.name}/index/*"}
    for bucket in spec.buckets:
        own |= {f"bucket/{bucket.name}", f"bucket/{bucket.name}/*"}
    if spec.queue:
        own |= {f"queue/{spec.queue}", f"queue/{spec.queue}-dlq"}
    if fleet.publishes(service):
        own.add(f"bus/{fleet.bus}")
    own.add(f"secret/service/{service}")
    for key in spec.signing_keys:  # its own signing keys and their certificates
        own |= {f"key/{service}-{key}", f"secret/{certificates_secret(service, key)}"}
    if spec.timers:
        own |= {f"schedule/{SCHEDULE_GROUP}/{service}-*", SCHEDULER_ROLE}
    if service == TOKEN_ISSUER:
        own |= {f"secret/service/{s.name}" for s in fleet.services}
        own.add("secret/auth/signing-keys")
    return own


def _covers(patterns: list[str], value: str) -> bool:
    return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in patterns)


def _passed_to_the_scheduler(statement: Mapping[str, Any]) -> bool:
    """Only ``iam:PassRole``, and only to EventBridge Scheduler."""
    return statement["actions"] == ["iam:PassRole"] and any(
        c["variable"] == "iam:PassedToService" and c["values"] == ["scheduler.amazonaws.com"]
        for c in statement.get("conditions", [])
    )


def problems(variables: Mapping[str, Any], fleet: Fleet) -> list[str]:
    found: list[str] = []
    policies = variables.get("task_policies", {})
    for spec in fleet.services:
        name = spec.name
        statements = policies.get(name)
        if not statements:
            found.append(f"{name}: no task policy in the generated variables")
            continue
        own = own_resources(fleet, name)
        append_only = {
            ref
            for t in fleet.tables(name)
            if t.append_only
            for ref in (f"table/{name}-{t.name}", f"table/{name}-{t.name}/index/*")
        }
        denied: dict[str, set[str]] = {ref: set() for ref in append_only}
        for statement in statements:
            sid, actions, resources = statement["sid"], statement["actions"], statement["resources"]
            if statement["effect"] == "Deny":
                for ref in set(resources) & append_only:
                    denied[ref] |= {a for a in REWRITES if _covers(actions, a)}
                continue
            for action in actions:
                if wildcard_on_a_store(action):
                    found.append(f"{name}: {sid}: wildcard action {action}")
            for resource in resources:
                if resource == "*":
                    if not unscoped_only(actions):
                        found.append(f"{name}: {sid}: '*' resource for {actions}")
                elif resource not in own:
                    found.append(f"{name}: {sid}: {resource} is not one of the service's own")
                elif resource == SCHEDULER_ROLE and not _passed_to_the_scheduler(statement):
                    found.append(f"{name}: {sid}: {resource} beyond iam:PassRole to the scheduler")
                elif resource in append_only:
                    for action in REWRITES:
                        if _covers(actions, action):
                            found.append(f"{name}: {sid}: allows {action} on {resource}")
        for ref, actions in sorted(denied.items()):
            missing = sorted(set(REWRITES) - actions)
            if missing:
                found.append(f"{name}: does not deny {missing} on {ref}")
    return found
