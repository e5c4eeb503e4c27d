"""What IAM must allow for each AWS call a service made.

The kit records each distinct call (``mindlinks_kit.aws.CallLog``): the
operation and the names it touches. Here each becomes the IAM actions it
needs, on the references ``mindlinks_dev.iam.policy`` grants (physical names
less the resource prefix). An operation is authorised as the action of the
same name unless AWS says otherwise:

- a transaction is authorised item by item (``PutItem``, ``UpdateItem``,
  ``DeleteItem``, ``ConditionCheckItem``, ``GetItem``), with no action of its own;
- batches, listings and heads map to their action (``SendMessageBatch`` →
  ``sqs:SendMessage``, ``ListObjectsV2`` → ``s3:ListBucket``, ``HeadObject`` →
  ``s3:GetObject``); a presigned POST is a ``PutObject`` by whoever signed it;
- a query or scan of an index is on ``table/<name>/index/<index>``;
- a schedule is ``schedule/<group>/<name>``, and creating or changing one
  passes the scheduler its role (``iam:PassRole`` on ``role/timers``).

Encryption adds KMS uses the emulator cannot show: every table, bucket and
secret and the queues are encrypted with a customer managed key
(``infra/terraform/modules/data``, ``events``, ``security``), and AWS uses
that key with the caller's permissions. ``ENCRYPTION`` says which key and what
each kind of call needs of it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from mindlinks_dev.iam.policy import SCHEDULER_ROLE

IAM_PREFIX = {
    "dynamodb": "dynamodb",
    "sqs": "sqs",
    "eventbridge": "events",
    "s3": "s3",
    "secrets-manager": "secretsmanager",
    "kms": "kms",
    "scheduler": "scheduler",
}
PASSES_THE_SCHEDULER_ROLE = frozenset({"CreateSchedule", "UpdateSchedule"})
RENAMED = {
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
    ("s3", "ListObjectsV2"): "ListBucket",
    ("s3", "ListObjects"): "ListBucket",
    ("s3", "HeadBucket"): "ListBucket",
    ("s3", "HeadObject"): "GetObject",
    ("s3", "DeleteObjects"): "DeleteObject",
}
TRANSACTION_ITEMS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
TABLE_LEVEL = frozenset({"DescribeTable", "DescribeTimeToLive", "DescribeContinuousBackups"})
BUCKET_LEVEL = frozenset({"ListBucket", "CreateBucket"})
ENCRYPTION: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {
    # DynamoDB keeps a table key under the CMK and unwraps it as the caller;
    # the grant it makes for that is for an AWS resource.
    "dynamodb": (
        "key/data",
        {"*": ("kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant")},
    ),
    "s3": (
        "key/data",
        {"PutObject": ("kms:GenerateDataKey",), "GetObject": ("kms:Decrypt",)},
    ),
    "sqs": (
        "key/messaging",
        {
            "SendMessage": ("kms:GenerateDataKey", "kms:Decrypt"),
            "ReceiveMessage": ("kms:Decrypt",),
        },
    ),
    "secretsmanager": (
        "key/secrets",
        {"GetSecretValue": ("kms:Decrypt",), "PutSecretValue": ("kms:GenerateDataKey",)},
    ),
}
"""Per IAM prefix: the key, and per action (``*``: any item-level action) the
KMS actions it needs of it. EventBridge uses its bus key as its own service
principal (the key policy), so ``PutEvents`` needs nothing of the caller."""
GRANT_CONTEXT = {"kms:GrantIsForAWSResource": "true"}
SCRATCH_COPY = re.compile(r"-[0-9a-f]{8}$")
"""A test's scratch copy of a table, ``<table>-<8 hex digits>`` (the ledger's
``fresh_journal``), is held to the table's grants."""


@dataclass(frozen=True)
class Call:
    """One recorded line."""

    caller: str
    prefix: str
    api: str
    operation: str
    presigned: bool
    targets: dict[str, Any] = field(hash=False)

    def describe(self) -> str:
        signed = " (presigned)" if self.presigned else ""
        return f"{self.api} {self.operation}{signed} {json.dumps(self.targets, sort_keys=True)}"


@dataclass(frozen=True)
class Need:
    """An IAM action on a reference, with the request context IAM sees."""

    action: str
    ref: str
    context: tuple[tuple[str, str], ...] = ()


def read_calls(directory: Path, fleet: str) -> list[Call]:
    """The calls ``fleet``'s services recorded (tests of the kit run toy
    fleets of their own), a key named by its ARN resolved to the alias that
    named it first (``CallLog._learn_key``)."""
    rows = [
        json.loads(line)
        for path in sorted(directory.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    rows = [row for row in rows if row.get("fleet") == fleet]
    aliases = {row["key"]: row["alias"] for row in rows if "alias" in row}
    calls = []
    for row in rows:
        if "alias" in row:
            continue
        targets = dict(row["targets"])
        if targets.get("KeyId") in aliases:
            targets["KeyId"] = aliases[targets["KeyId"]]
        calls.append(
            Call(
                caller=row["caller"],
                prefix=row["prefix"],
                api=row["api"],
                operation=row["operation"],
                presigned=row["presigned"],
                targets=targets,
            )
        )
    return calls


def _logical(name: str, prefix: str) -> str:
    return name.removeprefix(prefix)


def _key_ref(key_id: str, prefix: str) -> str:
    if key_id.startswith("alias/"):
        return f"key/{_logical(key_id.removeprefix('alias/'), prefix)}"
    return f"key/{key_id.rsplit('/', 1)[-1]}"  # a key id or ARN: its id names no purpose


def _queue_ref(targets: dict[str, Any], prefix: str) -> str:
    name = targets.get("QueueName") or urlparse(targets["QueueUrl"]).path.rsplit("/", 1)[-1]
    return f"queue/{_logical(name, prefix)}"


def _table_ref(name: str, prefix: str) -> str:
    return f"table/{SCRATCH_COPY.sub('', _logical(name, prefix))}"


def _dynamodb(call: Call, action: str) -> Iterator[tuple[str, str]]:
    targets = call.targets
    if call.operation.startswith("Transact"):
        for kind, table in targets.get("TransactItems", []):
            yield f"dynamodb:{TRANSACTION_ITEMS[kind]}", _table_ref(table, call.prefix)
        return
    if "RequestItems" in targets:
        for table in targets["RequestItems"]:
            yield action, _table_ref(table, call.prefix)
        return
    table = _table_ref(targets["TableName"], call.prefix)
    if "IndexName" in targets:
        table += f"/index/{targets['IndexName']}"
    yield action, table


def _s3(call: Call, name: str) -> Iterator[tuple[str, str]]:
    bucket = f"bucket/{_logical(call.targets['Bucket'], call.prefix)}"
    if call.presigned and call.operation == "CreateBucket":  # how botocore presigns a POST
        yield "s3:PutObject", f"{bucket}/*"
    elif name in BUCKET_LEVEL:
        yield f"s3:{name}", bucket
    else:
        yield f"s3:{name}", f"{bucket}/*"  # object keys are not recorded: any object


def direct_needs(call: Call) -> list[tuple[str, str]]:
    """The actions the call itself needs, on the references it touches."""
    prefix = IAM_PREFIX.get(call.api, call.api)
    name = RENAMED.get((prefix, call.operation), call.operation)
    action = f"{prefix}:{name}"
    targets = call.targets
    if prefix == "dynamodb":
        return list(_dynamodb(call, action))
    if prefix == "s3":
        return list(_s3(call, name))
    if prefix == "sqs":
        return [(action, _queue_ref(targets, call.prefix))]
    if prefix == "events":
        buses = targets.get("EventBusNames", ["default"])
        return [(action, f"bus/{_logical(b.rsplit('/', 1)[-1], call.prefix)}") for b in buses]
    if prefix == "secretsmanager":
        secret = targets.get("SecretId") or targets.get("Name", "*")
        return [(action, f"secret/{_logical(secret, call.prefix)}")]
    if prefix == "kms":
        return [(action, _key_ref(targets["KeyId"], call.prefix))]
    if prefix == "scheduler":
        group = _logical(targets.get("GroupName", "default"), call.prefix)
        return [(action, f"schedule/{group}/{targets.get('Name', '*')}")]
    return [(action, "*")]


def encryption_needs(action: str, ref: str) -> list[Need]:
    prefix, name = action.split(":", 1)
    if prefix not in ENCRYPTION:
        return []
    key, uses = ENCRYPTION[prefix]
    if prefix == "dynamodb":
        if name in TABLE_LEVEL:
            return []
        kms_actions = uses["*"]
    else:
        kms_actions = uses.get(name, ())
    context = tuple(GRANT_CONTEXT.items())
    return [Need(kms, key, context if kms == "kms:CreateGrant" else ()) for kms in kms_actions]


def needs(call: Call) -> list[Need]:
    """Every IAM permission the call takes: its own and its encryption's."""
    found: list[Need] = []
    for action, ref in direct_needs(call):
        found.append(Need(action, ref))
        found.extend(encryption_needs(action, ref))
    if call.api == "scheduler" and call.operation in PASSES_THE_SCHEDULER_ROLE:
        passed = (("iam:PassedToService", "scheduler.amazonaws.com"),)
        found.append(Need("iam:PassRole", SCHEDULER_ROLE, passed))
    return list(dict.fromkeys(found))
