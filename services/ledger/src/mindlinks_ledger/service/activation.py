"""``signature.completed`` → the activation and the payment schedule, in the
journal and as events (``ledger.contract-activated``, one
``ledger.payment-scheduled`` per item).

The journal appends are their own transactions (they race on the tip, so they
cannot join the consumer's unit of work); the events join the consumer's unit
of work and commit with its inbox record. A crash in between is safe: the
redelivered event finds its entries by idempotency key (one activation per
contract: ``contract-activated:<contractId>``, one entry per item:
``payment-scheduled:<contractId>:<index>``) and publishes what they recorded.
A second, distinct ``signature.completed`` for an activated contract changes
and publishes nothing, so a schedule can never be created twice; neither does
one for a contract an admin voided before it was activated.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from mindlinks_fleet.events import (
    ContractActivated,
    PaymentScheduled,
    ScheduleItem,
    SignatureCompleted,
)
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.runtime import Publish
from mindlinks_ledger.chain import Entry
from mindlinks_ledger.clients import DEFAULT_REVIEW_DAYS, Contracts, ContractView
from mindlinks_ledger.domain import (
    ACTIVATED,
    SCHEDULED,
    SIGNATURE,
    ActivationRefused,
    schedule_from_terms,
)
from mindlinks_ledger.journal import Journal, Request

log = structlog.get_logger("mindlinks.ledger.activation")
ACTIVATABLE = ("fully_signed", "active")
VOIDED = "voided"
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


async def _nothing() -> None:
    return None


def _parties(contract: ContractView) -> dict[str, str]:
    return {
        "clientCompanyId": contract.client_company_id,
        "clientUserId": contract.client_user_id,
        "contractorId": contract.contractor_id,
        "contractorUserId": contract.contractor_user_id,
    }


def _schedule_appends(
    contract_id: str, recorded: dict[str, Any], activation_seq: int
) -> list[Request]:
    """One ``payment-scheduled`` entry per item of an activation's schedule."""
    return [
        (
            SCHEDULED,
            contract_id,
            {
                "contractId": contract_id,
                "itemId": item.item_id,
                "title": item.title,
                "amountMinor": item.amount_minor,
                "currency": recorded["currency"],
                "dueDate": item.due_date,
                "activationSeq": activation_seq,
            },
            f"{SCHEDULED}:{contract_id}:{index}",
        )
        for index, item in enumerate(
            ScheduleItem.model_validate(raw) for raw in recorded["schedule"]
        )
    ]


class Activations:
    def __init__(
        self,
        journal: Journal,
        contracts: Contracts,
        publish: Publish,
        after_activation: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.journal = journal
        self.contracts = contracts
        self.publish = publish
        self.after_activation = after_activation or _nothing

    async def on_signature_completed(
        self, event_id: str, event: SignatureCompleted, uow: UnitOfWork
    ) -> None:
        contract_id = event.contract_id
        activation = await self.journal.appended(f"{ACTIVATED}:{contract_id}")
        together: list[Entry] = []
        if activation is None:
            found = await self._activation_data(event_id, event)
            if found is None:
                return
            data = found
            # The activation and its schedule in one transaction when nothing
            # stands in the way; else one by one below, each by its key.
            together = (
                await self.journal.append_together(
                    (ACTIVATED, contract_id, data, f"{ACTIVATED}:{contract_id}"),
                    lambda seq: _schedule_appends(contract_id, data, seq),
                )
                or []
            )
            if together:
                activation = together[0]
            else:
                appended = await self.journal.append(
                    ACTIVATED, contract_id, data, f"{ACTIVATED}:{contract_id}"
                )
                activation = appended.entry
        recorded = activation.data
        if recorded.get("eventId") != event_id:
            log.info(
                "ledger.already_activated",
                contract_id=contract_id,
                event_id=event_id,
                activation_seq=activation.seq,
            )
            return
        schedule = [ScheduleItem.model_validate(item) for item in recorded["schedule"]]
        parties = recorded["parties"]
        appends = _schedule_appends(contract_id, recorded, activation.seq)
        for index, (kind, subject, body, key) in enumerate(appends):
            if together:
                scheduled_entry = together[1 + index]
            else:
                scheduled_entry = (await self.journal.append(kind, subject, body, key)).entry
            entry = scheduled_entry.data
            self.publish(
                uow,
                "ledger.payment-scheduled",
                PaymentScheduled(
                    contract_id=contract_id,
                    item_id=entry["itemId"],
                    amount_minor=entry["amountMinor"],
                    currency=entry["currency"],
                    due_date=entry["dueDate"],
                    ledger_entry_id=scheduled_entry.seq,
                ),
            )
        self.publish(
            uow,
            "ledger.contract-activated",
            ContractActivated(
                contract_id=contract_id,
                title=recorded["title"],
                client_company_id=parties["clientCompanyId"],
                client_user_id=parties["clientUserId"],
                contractor_id=parties["contractorId"],
                contractor_user_id=parties["contractorUserId"],
                currency=recorded["currency"],
                schedule=schedule,
                ledger_entry_id=activation.seq,
                # An activation recorded before issue 15 has neither: the defaults.
                review_days=recorded.get("reviewDays", DEFAULT_REVIEW_DAYS),
                notice_days=recorded.get("noticeDays", 0),
            ),
        )
        # An activation creates money obligations: anchor them now rather than
        # leave them unanchored until the next periodic digest.
        await self.after_activation()

    async def _activation_data(
        self, event_id: str, event: SignatureCompleted
    ) -> dict[str, Any] | None:
        """What the activation records, or None when there is nothing to activate."""
        contract = await self.contracts.get(event.contract_id)
        if contract is None:
            raise ActivationRefused(f"contract {event.contract_id} is unknown")
        if contract.status == VOIDED:
            # An admin voided it once fully signed, before this event was handled:
            # it is final, so no activation and no schedule (and no retries).
            log.warning("ledger.voided_not_activated", contract_id=contract.id, event_id=event_id)
            return None
        if contract.status not in ACTIVATABLE:
            raise ActivationRefused(f"contract {contract.id} is {contract.status}")
        if not _CURRENCY.match(contract.currency):
            raise ActivationRefused(f"contract {contract.id} has no ISO 4217 currency")
        if contract.pdf_sha256 != event.pdf_sha256 or not _SHA256.match(event.pdf_sha256):
            raise ActivationRefused("the signed PDF's hash differs from the contract's")
        if contract.final_pdf_sha256 != event.final_pdf_sha256 or not _SHA256.match(
            event.final_pdf_sha256
        ):
            raise ActivationRefused("the final PDF's hash differs from the contract's")
        parties = _parties(contract)
        announced = {
            "clientCompanyId": event.client_company_id,
            "clientUserId": event.client_user_id,
            "contractorId": event.contractor_id,
            "contractorUserId": event.contractor_user_id,
        }
        if parties != announced:
            raise ActivationRefused("the event's parties are not the contract's")
        await self._check_signatures(contract.id, event.pdf_sha256, event.ledger_entry_ids)
        schedule = schedule_from_terms(contract.id, contract.title, contract.terms)
        return {
            "contractId": contract.id,
            "title": contract.title,
            "parties": parties,
            # Who by name: the legal names the signed PDF gives the parties
            # (the contractor's is the one KYC verified).
            "partyNames": {"client": contract.client_name, "contractor": contract.contractor_name},
            "currency": contract.currency,
            "pdfSha256": contract.pdf_sha256,
            "finalPdfSha256": contract.final_pdf_sha256,
            "signatureIds": list(event.signature_ids),
            "signatureEntryIds": list(event.ledger_entry_ids),
            "schedule": [item.model_dump(by_alias=True) for item in schedule],
            "totalMinor": sum(item.amount_minor for item in schedule),
            "reviewDays": contract.review_days,
            "noticeDays": contract.notice_days,
            "eventId": event_id,
        }

    async def _check_signatures(self, contract_id: str, pdf_sha256: str, seqs: list[int]) -> None:
        """The signature entries the event names are this contract's, over its PDF."""
        if not seqs:
            raise ActivationRefused("the event names no signature entries")
        found = await self.journal.entries(seqs)
        for seq in seqs:
            entry = found.get(seq)
            if entry is None:
                raise ActivationRefused(f"signature entry {seq} is not in the journal")
            if entry.subject != contract_id or entry.kind != SIGNATURE:
                raise ActivationRefused(f"entry {seq} is not a signature of {contract_id}")
            if entry.data.get("pdfSha256") != pdf_sha256:
                raise ActivationRefused(f"signature entry {seq} signed another PDF")
