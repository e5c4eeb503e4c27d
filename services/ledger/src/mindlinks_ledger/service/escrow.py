"""The money's steps in the journal: each step of an escrowed item (funded,
work submitted, changes requested, reminded, disputed, released, refunded,
settled, invoiced) under the item's escrow id; under the contract's id its
early end (its final state and the reason), its expiry when the signing
deadline passed unsigned (issue 16), and each amendment put in force
(ADR 0017: the whole schedule, what was added and removed, the PDFs' hashes,
the signature entries).

Every entry records the event's payload as published (camelCase, with the
``contractId`` that links it to its contract, as the contract's own entries
do) and the event's id. Its idempotency key names the step itself, not the
delivery (``payment-work-submitted:<escrowId>:<submissionNo>``), so a
redelivered event — or the same step published twice — finds its entry and
appends nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from pydantic import BaseModel

from mindlinks_fleet.events import (
    ChangesRequested,
    ContractAmended,
    ContractExpired,
    ContractTerminated,
    EscrowDisputed,
    EscrowSettled,
    InvoiceIssued,
    PaymentConfirmed,
    PaymentRefunded,
    PaymentReleased,
    ReviewReminder,
    WorkSubmitted,
)
from mindlinks_ledger.chain import Entry
from mindlinks_ledger.domain import EXPIRED, TERMINATED, step_kind
from mindlinks_ledger.journal import Journal

log = structlog.get_logger("mindlinks.ledger.escrow")

Step = tuple[str, str]
"""A step's subject and what makes it one step (its idempotency key's tail)."""


def _confirmed(p: PaymentConfirmed) -> Step:
    return p.escrow_id, p.escrow_id


def _submitted(p: WorkSubmitted) -> Step:
    return p.escrow_id, f"{p.escrow_id}:{p.submission_no}"


def _changes(p: ChangesRequested) -> Step:
    return p.escrow_id, f"{p.escrow_id}:{p.submission_no}"


def _reminder(p: ReviewReminder) -> Step:
    return p.escrow_id, f"{p.escrow_id}:{p.review_due_at}:{p.days_left}"


def _disputed(p: EscrowDisputed) -> Step:
    return p.escrow_id, p.escrow_id


def _released(p: PaymentReleased) -> Step:
    return p.escrow_id, f"{p.escrow_id}:{p.transfer_id}"


def _refunded(p: PaymentRefunded) -> Step:
    return p.escrow_id, f"{p.escrow_id}:{p.refund_id}"


def _settled(p: EscrowSettled) -> Step:
    return p.escrow_id, p.escrow_id


def _invoiced(p: InvoiceIssued) -> Step:
    return p.escrow_id, p.invoice_id


def _terminated(p: ContractTerminated) -> Step:
    return p.contract_id, p.contract_id


def _expired(p: ContractExpired) -> Step:
    return p.contract_id, p.contract_id


def _amended(p: ContractAmended) -> Step:
    return p.contract_id, f"{p.contract_id}:{p.number}"


STEPS: dict[str, Callable[[Any], Step]] = {
    "payment.confirmed": _confirmed,
    "payment.work-submitted": _submitted,
    "payment.changes-requested": _changes,
    "payment.review-reminder": _reminder,
    "payment.disputed": _disputed,
    "payment.released": _released,
    "payment.refunded": _refunded,
    "payment.item-settled": _settled,
    "payment.invoice-issued": _invoiced,
    "contract.terminated": _terminated,
    "contract.amended": _amended,
    "contract.expired": _expired,
}
"""The events the ledger records as steps, and where each one goes."""


class MoneySteps:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    async def record(self, event_name: str, event_id: str, payload: BaseModel) -> Entry:
        """The step's entry: appended now, or found where a delivery of it
        (this one before, or another event of the same step) appended it."""
        kind = step_kind(event_name)
        subject, step = STEPS[event_name](payload)
        if isinstance(payload, ContractAmended):
            data = amendment_data(payload)
        else:
            data = {**payload.model_dump(mode="json", by_alias=True)}
        if event_name == "contract.terminated":
            data["finalState"] = TERMINATED
        if event_name == "contract.expired":
            data["finalState"] = EXPIRED
        data["eventId"] = event_id
        appended = await self.journal.append(kind, subject, data, f"{kind}:{step}")
        if not appended.same_request:
            log.info(
                "ledger.step_already_recorded",
                kind=kind,
                subject=subject,
                event_id=event_id,
                seq=appended.entry.seq,
            )
        return appended.entry


def amendment_data(amended: ContractAmended) -> dict[str, Any]:
    """A ``contract-amended`` entry's data: the version's terms as payment
    follows them and what proves them (the parties are the contract's own
    entries'; ``signatureEntryIds`` are the amendment's ``signature`` entries,
    as the activation names its own)."""
    dumped = amended.model_dump(mode="json", by_alias=True)
    fields = (
        "contractId",
        "number",
        "termsVersion",
        "currency",
        "totalMinor",
        "previousTotalMinor",
        "endDate",
        "schedule",
        "addedItemIds",
        "removedItemIds",
        "pdfSha256",
        "finalPdfSha256",
        "signatureIds",
    )
    return {
        **{name: dumped[name] for name in fields},
        "signatureEntryIds": dumped["ledgerEntryIds"],
        "amendedAt": dumped["amendedAt"],
    }
