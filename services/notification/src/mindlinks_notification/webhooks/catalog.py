"""The public event types a company may subscribe to, and how each is made
from a fleet event: which company it is about, and its public ``data``.

The public payload is a stable, documented shape (``docs/webhooks.md``): only
what the company itself may read through the API about its own contracts and
payments — never user ids, ledger internals or another party's data. Adding a
type is one ``PublicType`` line here with its ``data`` function, and its
source event among notification's ``consumes`` in the fleet's
``services.py``; the routes accept it from then on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mindlinks_fleet.events import (
    ContractActivated,
    ContractAmended,
    ContractExpired,
    PaymentConfirmed,
    PaymentReleased,
    SignatureCompleted,
)

Data = dict[str, Any]


def _money(amount_minor: int, currency: str) -> Data:
    return {"amountMinor": amount_minor, "currency": currency}


def _signed(p: SignatureCompleted) -> Data:
    return {
        "contractId": p.contract_id,
        "title": p.title,
        "contractorId": p.contractor_id,
        "finalPdfSha256": p.final_pdf_sha256,
    }


def _activated(p: ContractActivated) -> Data:
    return {
        "contractId": p.contract_id,
        "title": p.title,
        "contractorId": p.contractor_id,
        "currency": p.currency,
        "schedule": [
            {
                "itemId": item.item_id,
                "title": item.title,
                "amount": _money(item.amount_minor, p.currency),
                "dueDate": item.due_date,
            }
            for item in p.schedule
        ],
    }


def _expired(p: ContractExpired) -> Data:
    return {
        "contractId": p.contract_id,
        "title": p.title,
        "contractorId": p.contractor_id,
        "signingDeadline": p.signing_deadline,
        "expiredAt": p.expired_at,
        "waitingFor": p.waiting_for,
    }


def _amended(p: ContractAmended) -> Data:
    """Amendment ``number`` is in force as the terms' ``termsVersion``: what
    changed (the payments added and removed, by id), not the whole schedule."""
    return {
        "contractId": p.contract_id,
        "title": p.title,
        "contractorId": p.contractor_id,
        "number": p.number,
        "termsVersion": p.terms_version,
        "total": _money(p.total_minor, p.currency),
        "previousTotal": _money(p.previous_total_minor, p.currency),
        "addedItemIds": p.added_item_ids,
        "removedItemIds": p.removed_item_ids,
        "finalPdfSha256": p.final_pdf_sha256,
        "amendedAt": p.amended_at,
    }


def _funded(p: PaymentConfirmed) -> Data:
    return {
        "contractId": p.contract_id,
        "itemId": p.item_id,
        "amount": _money(p.amount_minor, p.currency),
    }


def _released(p: PaymentReleased) -> Data:
    return {
        "contractId": p.contract_id,
        "itemId": p.item_id,
        "amount": _money(p.amount_minor, p.currency),
        "allReleased": p.all_released,
        "reason": p.reason,
    }


@dataclass(frozen=True)
class PublicType:
    name: str
    """What subscribers see (``contract.signed``)."""
    source: str
    """The fleet event it is made from (``signature.completed``)."""
    company: Callable[[Any], str | None]
    """The company the event is about (``None``: cannot tell; not delivered)."""
    data: Callable[[Any], Data]


def _client_company(payload: Any) -> str | None:
    company: str | None = payload.client_company_id
    return company


PUBLIC_TYPES: tuple[PublicType, ...] = (
    PublicType("contract.signed", "signature.completed", _client_company, _signed),
    PublicType("contract.activated", "ledger.contract-activated", _client_company, _activated),
    PublicType("contract.expired", "contract.expired", _client_company, _expired),
    PublicType("contract.amended", "contract.amended", _client_company, _amended),
    PublicType("payment.funded", "payment.confirmed", _client_company, _funded),
    PublicType("payment.released", "payment.released", _client_company, _released),
)
BY_NAME: Mapping[str, PublicType] = {t.name: t for t in PUBLIC_TYPES}
BY_SOURCE: Mapping[str, PublicType] = {t.source: t for t in PUBLIC_TYPES}
TYPE_NAMES: tuple[str, ...] = tuple(BY_NAME)
