"""What must hold after the faults, read from the fleet's own tables in the
embedded AWS (the oracle sees everything; no service can hide a duplicate)
and from the ledger's verification. Each check returns the breaches it found,
in words; none is the only passing answer."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from mindlinks_dev.chaos.fleet import Endpoints
from mindlinks_dev.chaos.tables import aws, scan
from mindlinks_fleet import FLEET


@dataclass
class Findings:
    breaches: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def fail(self, what: str) -> None:
        self.breaches.append(what)


def duplicates(values: Iterable[Any]) -> list[Any]:
    return [value for value, n in Counter(values).items() if n > 1 and value is not None]


def contracts_and_schedules(fleet: Endpoints, found: Findings) -> None:
    """Every fully signed contract is active, with exactly one payment schedule."""
    contracts = {c["id"]: c for c in scan(fleet, "contract", "contracts")}
    signatures = defaultdict(list)
    items = scan(fleet, "signature", "signatures")
    found.counts["signing sagas left pending by their signer"] = sum(
        s.get("kind") != "decline" and s.get("state") == "pending" for s in items
    )
    for signature in items:
        # A pending signature is a signing saga its signer has not finished
        # (a retry completes it); only recorded ones sign.
        if signature.get("kind") != "decline" and signature.get("state") == "recorded":
            # An amendment's signatures sign that amendment (issue 16), not the contract.
            signatures[signature["contractId"], signature.get("amendment")].append(signature)
    escrows = defaultdict(list)
    for escrow in scan(fleet, "payment", "escrow"):
        escrows[escrow["contractId"]].append(escrow)
    signed = 0
    for (contract_id, amendment), signed_it in signatures.items():
        signers = [s["role"] for s in signed_it]
        if duplicates(signers):
            what = f"contract {contract_id}" + (f" amendment {amendment}" if amendment else "")
            found.fail(f"{what} was signed twice by the same party: {signers}")
    for contract_id, contract in contracts.items():
        signers = [s["role"] for s in signatures[contract_id, None]]
        fully_signed = len(set(signers)) >= 2 or contract["status"] == "fully_signed"
        if not fully_signed:
            continue
        signed += 1
        if contract["status"] != "active":
            found.fail(f"contract {contract_id} is fully signed but {contract['status']}")
            continue
        items = escrows[contract_id]
        # The items of the terms in force: as activation named them, or as
        # the last amendment in force did (items it removed stay, ended).
        lines = len(contract["terms"].get("milestones") or [None])
        current = contract.get("itemIds") or [f"{contract_id}-{i}" for i in range(lines)]
        opened = Counter(i["itemId"] for i in items)
        if any(opened[item] != 1 for item in current) or duplicates(opened.elements()):
            found.fail(
                f"contract {contract_id} has items {sorted(opened)} for its terms' {current}"
            )
    found.counts["contracts fully signed"] = signed
    found.counts["contracts active"] = sum(c["status"] == "active" for c in contracts.values())


def money_moves_once(fleet: Endpoints, found: Findings) -> None:
    """No intent, charge, transfer or refund exists twice, and what left the
    platform for an item (its transfer and refunds at the local Stripe) never
    exceeds what its intent took."""
    transactions = scan(fleet, "payment", "transactions")
    for kind in ("charge", "transfer", "refund"):
        of_kind = [t for t in transactions if t["kind"] == kind]
        for escrow in duplicates(t["escrowId"] for t in of_kind):
            found.fail(f"escrow {escrow} has more than one {kind}")
        found.counts[f"{kind} transactions"] = len(of_kind)
    for intent in duplicates(
        t.get("paymentIntentId") for t in transactions if t["kind"] == "charge"
    ):
        found.fail(f"payment intent {intent} backs more than one charge")
    for transfer in duplicates(t.get("transferId") for t in transactions):
        found.fail(f"transfer {transfer} is recorded more than once")
    objects = [
        item
        for item in scan(fleet, "payment", "idempotency")
        if str(item["key"]).startswith("local-stripe:")
    ]
    documents = [json.loads(item["document"]) for item in objects]
    intents = [d for d in documents if d.get("object") == "payment_intent"]
    transfers = [d for d in documents if d.get("object") == "transfer"]
    for escrow in duplicates(d.get("metadata", {}).get("escrowId") for d in intents):
        found.fail(f"the local Stripe holds more than one intent for escrow {escrow}")
    for escrow in duplicates(d.get("metadata", {}).get("escrowId") for d in transfers):
        found.fail(f"the local Stripe holds more than one transfer for escrow {escrow}")
    refunds = [d for d in documents if d.get("object") == "refund"]
    for escrow in duplicates(d.get("metadata", {}).get("escrowId") for d in refunds):
        found.fail(f"the local Stripe holds more than one refund for escrow {escrow}")
    paid = {d.get("metadata", {}).get("escrowId"): int(d["amount"]) for d in intents}
    out: defaultdict[str, int] = defaultdict(int)
    for document in (*transfers, *refunds):
        out[document.get("metadata", {}).get("escrowId")] += int(document["amount"])
    for escrow, amount in sorted(out.items()):
        if amount > paid.get(escrow, 0):
            found.fail(f"escrow {escrow} paid out {amount} of the {paid.get(escrow, 0)} it took")
    found.counts["intents at the local Stripe"] = len(intents)
    found.counts["transfers at the local Stripe"] = len(transfers)
    found.counts["refunds at the local Stripe"] = len(refunds)


def invoices_once_in_sequence(fleet: Endpoints, found: Findings) -> None:
    """Every transfer has one invoice, and each contractor's numbers run 1..n
    without a gap or a repeat."""
    invoices = scan(fleet, "payment", "invoices")
    for escrow in duplicates(i["escrowId"] for i in invoices):
        found.fail(f"escrow {escrow} was invoiced more than once")
    transactions = scan(fleet, "payment", "transactions")
    released = {t["escrowId"] for t in transactions if t["kind"] == "transfer"}
    for escrow in sorted(released - {i["escrowId"] for i in invoices}):
        found.fail(f"escrow {escrow} was released without an invoice")
    numbers: defaultdict[str, list[int]] = defaultdict(list)
    for invoice in invoices:
        numbers[invoice["contractorId"]].append(int(invoice["sequence"]))
    for contractor, issued in numbers.items():
        if sorted(issued) != list(range(1, len(issued) + 1)):
            found.fail(f"contractor {contractor}'s invoice numbers are {sorted(issued)}")
    found.counts["invoices issued"] = len(invoices)


def events_took_effect(fleet: Endpoints, found: Findings) -> None:
    """Every published event reached every consumer once (its inbox holds its
    id, written in the same transaction as the handler's effect); nothing is
    left unpublished, queued or dead-lettered."""
    inboxes = {
        service.name: {item["eventId"] for item in scan(fleet, service.name, "inbox")}
        for service in FLEET.services
        if service.consumes
    }
    published = 0
    for service in FLEET.services:
        if not FLEET.publishes(service.name):
            continue
        for item in scan(fleet, service.name, "outbox"):
            if "pendingShard" in item:
                found.fail(f"{service.name} never published {item['detailType']} {item['id']}")
                continue
            published += 1
            for consumer in FLEET.consumers(item["detailType"]):
                if item["id"] not in inboxes[consumer]:
                    found.fail(f"{consumer} never applied {item['detailType']} {item['id']}")
    found.counts["events published"] = published
    found.counts["event deliveries applied"] = sum(len(ids) for ids in inboxes.values())
    sqs = aws(fleet, "sqs")
    for service in FLEET.services:
        if not service.queue:
            continue
        for name in (service.queue, f"{service.queue}-dlq"):
            url = sqs.get_queue_url(QueueName=f"{fleet.prefix}{name}")["QueueUrl"]
            attributes = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            left = sum(int(v) for v in attributes.values())
            if left:
                found.fail(f"{left} messages left in {name}")


def ledger_verifies(edge: httpx.Client, admin: dict[str, str], found: Findings) -> None:
    response = edge.get("/v1/admin/ledger/verify", headers=admin)
    if response.status_code != 200:
        found.fail(f"ledger verification answered {response.status_code}: {response.text[:300]}")
        return
    result = response.json()
    found.counts["ledger entries verified"] = int(result.get("entries", 0))
    if not result.get("ok"):
        found.fail(f"the ledger does not verify: {result.get('problem')}")


def check_all(fleet: Endpoints, edge: httpx.Client, admin: dict[str, str]) -> Findings:
    found = Findings()
    checks: list[Callable[[Endpoints, Findings], None]] = [
        contracts_and_schedules,
        money_moves_once,
        invoices_once_in_sequence,
        events_took_effect,
    ]
    for check in checks:
        check(fleet, found)
    ledger_verifies(edge, admin, found)
    return found
