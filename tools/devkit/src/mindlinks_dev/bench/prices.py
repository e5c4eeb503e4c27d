"""AWS public list prices the capacity plan multiplies by, and what each
AWS call the embedded AWS counted costs in the units AWS bills.

The prices: eu-west-1 (Ireland, where the Terraform roots deploy), on-demand,
no free tier, as of 2026-12-03 — the figures of the README's cost table,
checked that day against published summaries of the AWS price pages
(Fargate's $0.04048 per vCPU-hour and $0.004445 per GB-hour were quoted for
March 2026). AWS changes prices: check https://aws.amazon.com/<service>/pricing/
before budgeting, and change them here, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mindlinks_kit.declaration import Fleet

PRICES_AS_OF = "2026-12-03"
REGION = "eu-west-1"


@dataclass(frozen=True)
class Price:
    usd: float
    per: float
    unit: str

    @property
    def each(self) -> float:
        return self.usd / self.per


PRICES: dict[str, Price] = {
    "fargate vCPU": Price(0.04048, 1, "vCPU-hour (Linux/x86)"),
    "fargate memory": Price(0.004445, 1, "GB-hour"),
    "dynamodb write": Price(0.71, 1e6, "write request units (on-demand)"),
    "dynamodb read": Price(0.14, 1e6, "read request units (on-demand)"),
    "sqs": Price(0.40, 1e6, "SQS standard requests"),
    "eventbridge": Price(1.00, 1e6, "custom events put"),
    "s3 write": Price(0.005, 1e3, "S3 PUT, COPY, POST, LIST requests"),
    "s3 read": Price(0.0004, 1e3, "S3 GET and other requests"),
    "secrets": Price(0.05, 1e4, "Secrets Manager API calls"),
    "kms": Price(0.03, 1e4, "KMS requests"),
    "api gateway": Price(3.50, 1e6, "API Gateway REST requests"),
}

READS = {"GetItem": 1, "Query": 1, "Scan": 1, "BatchGetItem": 1, "TransactGetItems": 4}
WRITES = {"PutItem": 1, "UpdateItem": 1, "DeleteItem": 1, "BatchWriteItem": 1}
TRANSACTION_WRITE = 4
"""A transaction of two items (the kit's unit of work: the state and its
outbox event) at 2 write units each."""
ASSUMPTIONS = (
    "items under 1 KB (writes) and 4 KB (reads); every read strongly consistent (1 unit) "
    "and returning one item or page; a transaction holds two items at 2 units each; each "
    "write also writes each of its table's GSIs once; `PutEvents` carries one event per "
    "detail type it names; every message a consumer deleted was delivered to its queue by "
    "EventBridge (one SQS request more)"
)


@dataclass(frozen=True)
class Billed:
    """One kind of call, in the units AWS bills it."""

    kind: str
    calls: float
    price: str
    """A key of ``PRICES``, or ``""`` when AWS does not bill it (control plane)."""
    units: float

    @property
    def usd(self) -> float:
        return self.units * PRICES[self.price].each if self.price else 0.0


def gsi_counts(fleet: Fleet) -> dict[str, int]:
    """Physical table name (unprefixed, ``contract-contracts``) → its GSIs."""
    return {
        f"{s.name}-{t.name}": len(t.indexes) for s in fleet.services for t in fleet.tables(s.name)
    }


def billed(kind: str, calls: float, gsis: Mapping[str, int]) -> list[Billed]:
    """What ``calls`` calls of ``kind`` (``dynamodb:PutItem contract-outbox``) cost."""
    name, _, resource = kind.partition(" ")
    service, _, action = name.partition(":")
    tables = resource.split("+") if resource else []
    if service == "dynamodb" and action in READS:
        return [Billed(kind, calls, "dynamodb read", calls * READS[action] * max(len(tables), 1))]
    if service == "dynamodb" and (action in WRITES or action == "TransactWriteItems"):
        base = TRANSACTION_WRITE if action == "TransactWriteItems" else WRITES[action]
        indexes = sum(gsis.get(t, 0) for t in tables)
        units = calls * (base * max(len(tables), 1) + indexes)
        return [Billed(kind, calls, "dynamodb write", units)]
    if service == "sqs":
        found = [Billed(kind, calls, "sqs", calls)]
        if action in ("DeleteMessage", "DeleteMessageBatch"):
            delivered = f"sqs:SendMessage {resource} (EventBridge's delivery)".strip()
            found.append(Billed(delivered, calls, "sqs", calls))
        return found
    if service == "events" and action == "PutEvents":
        return [Billed(kind, calls, "eventbridge", calls * max(len(tables), 1))]
    if service == "s3":
        heavy = action in ("PUT", "POST", "COPY") or action.startswith("List")
        return [Billed(kind, calls, "s3 write" if heavy else "s3 read", calls)]
    if service == "secretsmanager":
        return [Billed(kind, calls, "secrets", calls)]
    if service == "kms":
        return [Billed(kind, calls, "kms", calls)]
    return [Billed(kind, calls, "", 0.0)]


def bill(calls: Mapping[str, float], gsis: Mapping[str, int]) -> list[Billed]:
    """Every counted kind of call, priced; the costliest first."""
    found = [b for kind, n in calls.items() for b in billed(kind, n, gsis)]
    return sorted(found, key=lambda b: (-b.usd, b.kind))


def by_price(lines: list[Billed]) -> dict[str, tuple[float, float]]:
    """Price key → (units, USD), for the lines that cost something."""
    totals: dict[str, tuple[float, float]] = {}
    for line in lines:
        if line.price:
            units, usd = totals.get(line.price, (0.0, 0.0))
            totals[line.price] = (units + line.units, usd + line.usd)
    return totals


def task_month_usd(cpu_units: int, memory_mib: int, hours: float) -> float:
    """One Fargate task of a declared size running ``hours``."""
    vcpu = cpu_units / 1024 * PRICES["fargate vCPU"].each
    memory = memory_mib / 1024 * PRICES["fargate memory"].each
    return (vcpu + memory) * hours
