"""Each service's task-role policy, derived from the fleet declaration.

The statements name resources by reference, not by ARN: ``table/<service>-<table>``
(``/index/*`` for its indexes), ``bucket/<name>`` (``/*`` for its objects),
``queue/<service>`` and ``queue/<service>-dlq``, ``bus/<bus>``,
``secret/<name>`` (``service/<name>``, ``auth/signing-keys``,
``<service>/<key>-certificates``), ``key/<purpose>`` (``data``, ``secrets``,
``messaging``; ``<service>-<key>`` for a service's signing keys),
``schedule/timers/<service>-*`` (its timers' schedules), ``role/timers``
(the role EventBridge Scheduler sends firings with) and ``*``. Terraform resolves them to the
environment's ARNs (``infra/terraform/platform``, ``local.resource_arns``); the
permission check resolves the AWS calls the services make in the test suite to
the same references (``mindlinks_dev.iam.calls``), so both read one policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mindlinks_dev.local_authority import certificates_secret
from mindlinks_kit.declaration import Fleet
from mindlinks_kit.timer_schedules import SCHEDULE_GROUP

TOKEN_ISSUER = "auth"  # noqa: S105 - a service name
"""Mints service tokens: reads every service's secret (``service/<name>``) and
keeps the token signing keys (``auth/signing-keys``, ``mindlinks_auth.keys``)."""

SIGNING_KEYS_SECRET = "auth/signing-keys"  # noqa: S105 - a secret's name
"""The token issuer's signing keys: Terraform and the local bootstrap create
the secret with a first key; the issuer rotates it (``PutSecretValue``)."""

ITEM_READS = ("dynamodb:GetItem", "dynamodb:Query")
ITEM_WRITES = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
TABLE_ACTIONS = (
    *ITEM_READS,
    "dynamodb:BatchGetItem",
    *ITEM_WRITES,
    "dynamodb:Scan",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
APPEND_ONLY_ACTIONS = (
    *ITEM_READS,
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:Scan",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
ITEM_REWRITES = (
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
)
"""The actions that change or remove an existing item (``PutItem`` overwrites
too, but no IAM condition key tells an overwrite from a create)."""
REWRITES = (
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
    "dynamodb:UpdateTable",
    "dynamodb:DeleteTable",
    "dynamodb:RestoreTableFromBackup",
    "dynamodb:RestoreTableToPointInTime",
    "dynamodb:ImportTable",
    "dynamodb:PutResourcePolicy",
    "dynamodb:DeleteResourcePolicy",
)
"""What may never touch an append-only table, denied explicitly: a deny wins
over any allow that a later policy might add to the role."""
SCHEDULER_ROLE = "role/timers"
"""The role EventBridge Scheduler assumes to deliver timer firings (Terraform's
``modules/events``): allowed to send to the queue of each service with timers."""
SCHEDULE_ACTIONS = (
    "scheduler:CreateSchedule",
    "scheduler:UpdateSchedule",
    "scheduler:DeleteSchedule",
)
QUEUE_CONSUMER = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueUrl",
    "sqs:GetQueueAttributes",
)


@dataclass(frozen=True)
class Condition:
    test: str
    variable: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    effect: Literal["Allow", "Deny"] = "Allow"
    conditions: tuple[Condition, ...] = ()
    used_outside_the_code: str = ""
    """Who uses the grant, when not the service's own code (the permission
    check cannot see it, so does not call it unused)."""

    def variables(self) -> dict[str, Any]:
        """As Terraform's ``task_policies`` holds it."""
        return {
            "sid": self.sid,
            "effect": self.effect,
            "actions": list(self.actions),
            "resources": list(self.resources),
            "conditions": [
                {"test": c.test, "variable": c.variable, "values": list(c.values)}
                for c in self.conditions
            ],
        }


INDEX_ACTIONS = ("dynamodb:Query", "dynamodb:Scan")
"""The only actions that can name an index (``IndexName``)."""


def table_refs(names: list[str]) -> tuple[str, ...]:
    return tuple(f"table/{n}" for n in names)


def index_refs(fleet: Fleet, service: str, names: list[str]) -> tuple[str, ...]:
    """The index ARNs of those of ``names`` that have indexes."""
    indexed = {f"{service}-{t.name}" for t in fleet.tables(service) if t.indexes}
    return tuple(f"table/{n}/index/*" for n in names if n in indexed)


def task_policy(fleet: Fleet, service: str) -> tuple[Statement, ...]:
    """The statements of ``service``'s task role: its own tables, buckets,
    queue, secrets and keys; a wildcard only where AWS has no resource-level
    permission."""
    spec = fleet.service(service)
    tables = fleet.tables(service)
    mutable = [f"{service}-{t.name}" for t in tables if not t.append_only]
    append_only = [f"{service}-{t.name}" for t in tables if t.append_only]
    buckets = [b.name for b in spec.buckets if not b.object_lock]
    locked = [b.name for b in spec.buckets if b.object_lock]
    publishes = bool(fleet.publishes(service))
    issuer = service == TOKEN_ISSUER

    statements: list[Statement] = []
    if mutable:
        statements.append(Statement("OwnTables", TABLE_ACTIONS, table_refs(mutable)))
    if index_refs(fleet, service, [*mutable, *append_only]):
        statements.append(
            Statement(
                "OwnIndexes", INDEX_ACTIONS, index_refs(fleet, service, [*mutable, *append_only])
            )
        )
    if append_only:
        refs = table_refs(append_only)
        statements.append(Statement("OwnAppendOnlyTables", APPEND_ONLY_ACTIONS, refs))
        refs += tuple(f"table/{n}/index/*" for n in append_only)
        statements.append(Statement("NeverRewriteAppendOnlyTables", REWRITES, refs, "Deny"))
    if buckets:
        objects = ("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject")
        statements.append(
            Statement("OwnBucketObjects", objects, tuple(f"bucket/{b}/*" for b in buckets))
        )
    if locked:
        # PutObject with a retain-until date needs PutObjectRetention; in
        # compliance mode that can only ever lengthen a retention.
        objects = ("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectRetention")
        statements.append(
            Statement("OwnLockedBucketObjects", objects, tuple(f"bucket/{b}/*" for b in locked))
        )
    if buckets or locked:
        refs = tuple(f"bucket/{b}" for b in (*buckets, *locked))
        statements.append(Statement("ListOwnBuckets", ("s3:ListBucket",), refs))
    if spec.queue:
        queue, dead_letters = f"queue/{spec.queue}", f"queue/{spec.queue}-dlq"
        statements.append(Statement("ConsumeOwnQueue", QUEUE_CONSUMER, (queue,)))
        # The operator's replay (kit/operations.py) sends a dead letter back;
        # the timers' sweep sends the firings of timers past due (kit/timers.py).
        statements.append(Statement("ReplayIntoOwnQueue", ("sqs:SendMessage",), (queue,)))
        # The consumer dead-letters a message itself after max_receives; the
        # operator lists, replays and discards what is there.
        statements.append(
            Statement("OwnDeadLetterQueue", ("sqs:SendMessage", *QUEUE_CONSUMER), (dead_letters,))
        )
    if spec.timers:
        # Its own schedules only: every schedule name starts with the service's.
        schedules = (f"schedule/{SCHEDULE_GROUP}/{service}-*",)
        statements.append(Statement("OwnTimerSchedules", SCHEDULE_ACTIONS, schedules))
        statements.append(
            Statement(
                "PassTheTimersRole",
                ("iam:PassRole",),
                (SCHEDULER_ROLE,),
                conditions=(
                    Condition("StringEquals", "iam:PassedToService", ("scheduler.amazonaws.com",)),
                ),
            )
        )
    if publishes:
        statements.append(
            Statement("PublishOnTheBus", ("events:PutEvents",), (f"bus/{fleet.bus}",))
        )
    secrets = [f"secret/service/{s.name}" for s in fleet.services] if issuer else []
    # A signing key's certificate chain is configuration its service reads.
    secrets += [f"secret/{certificates_secret(service, k)}" for k in spec.signing_keys]
    statements.append(
        Statement(
            "ReadServiceSecrets",
            ("secretsmanager:GetSecretValue",),
            tuple(dict.fromkeys([f"secret/service/{service}", *secrets])),
        )
    )
    if spec.signing_keys:
        # Sign only: the public key is in the certificate, and no other role
        # may sign with these keys (nor this one with anyone else's).
        statements.append(
            Statement(
                "SignWithOwnKeys",
                ("kms:Sign",),
                tuple(f"key/{service}-{k}" for k in spec.signing_keys),
            )
        )
    if issuer:
        statements.append(
            Statement(
                "KeepSigningKeys",
                (
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:PutSecretValue",
                    "secretsmanager:DescribeSecret",
                ),
                (f"secret/{SIGNING_KEYS_SECRET}",),
            )
        )
    statements.append(
        Statement(
            "DataKey",
            ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"),
            ("key/data",),
        )
    )
    # DynamoDB tables encrypted with the data key use grants it creates for the caller.
    statements.append(
        Statement(
            "DataKeyGrantsForDynamoDb",
            ("kms:CreateGrant",),
            ("key/data",),
            conditions=(Condition("Bool", "kms:GrantIsForAWSResource", ("true",)),),
        )
    )
    secrets_key = ("kms:Decrypt", "kms:GenerateDataKey") if issuer else ("kms:Decrypt",)
    statements.append(Statement("SecretsKey", secrets_key, ("key/secrets",)))
    if spec.queue or publishes:
        statements.append(
            Statement("MessagingKey", ("kms:Decrypt", "kms:GenerateDataKey"), ("key/messaging",))
        )
    statements.append(
        Statement(
            "Traces",
            (
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
            ),
            ("*",),  # X-Ray has no resource-level permissions
            used_outside_the_code="the ADOT collector sidecar, which sends the traces",
        )
    )
    return tuple(statements)
