"""Invoices: every release produces one, from the contractor to the client.

An invoice is numbered in its contractor's own series (``INV-000001``,
``INV-000002``, ... without gaps: the number is raised in the invoice's own
transaction), names both parties as they are registered (the client
company's legal name, jurisdiction, registry number and address; the
contractor's legal name, address and tax id from their profile), the item,
the contract, and the amount that reached the contractor in minor units and
formatted. Its id derives from the escrow item, so an item is invoiced once
whatever is redelivered.

Pure: no I/O, no FastAPI; ``service.invoicing`` applies it and
``invoice_pdf`` renders it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from mindlinks_kit.address import Address
from mindlinks_kit.errors import DependencyUnavailable, NotFound
from mindlinks_payment.domain import Caller, Parties, Role


class InvoiceNotFound(NotFound):
    """Unknown invoices and other people's invoices answer alike."""

    code = "invoice-not-found"
    title = "No such invoice"


class InvoiceFileMissing(DependencyUnavailable):
    code = "invoice-file-missing"
    title = "The invoice's PDF cannot be read right now"


class InvoicePartyUnknown(RuntimeError):
    """A party's registered details cannot be found: no invoice without them.
    The event is retried, then dead-lettered for an operator."""


_IDS = uuid.UUID("6a1f0e3c-2b7d-4c55-9f0e-8d2b51c7a9e4")
REASONS = {
    "approved": "Approved by the client",
    "auto-release": "Released automatically at the end of the review period",
    "agreed": "Partial release agreed by both parties",
    "dispute": "Released by a dispute resolution",
}
"""What ``payment.released``'s ``reason`` means on the document."""


def invoice_id_for(escrow_id: str) -> str:
    """One invoice per escrow item: a redelivered release finds it."""
    return "inv_" + uuid.uuid5(_IDS, f"invoice\0{escrow_id}").hex


def invoice_number(sequence: int) -> str:
    return f"INV-{sequence:06d}"


def pdf_key(invoice_id: str, sha256: str) -> str:
    """Content-addressed: an attempt that lost the race for a number never
    overwrites the document the winner recorded."""
    return f"invoices/{invoice_id}/{sha256}.pdf"


@dataclass(frozen=True)
class Issuer:
    """The contractor, as their profile says when the invoice is issued."""

    contractor_id: str
    legal_name: str
    email: str
    address: Address | None = None
    country: str | None = None
    tax_id: str | None = None


@dataclass(frozen=True)
class Recipient:
    """The client company, as it is registered."""

    company_id: str
    legal_name: str
    jurisdiction_code: str
    company_number: str
    address: Address | None = None


@dataclass(frozen=True)
class Invoice:
    id: str
    number: str
    sequence: int
    """The number's position in the contractor's series (1, 2, ...)."""
    parties: Parties
    escrow_id: str
    item_id: str
    item_title: str
    transfer_id: str
    reason: str
    amount_minor: int
    """What reached the contractor: the item's amount, or a split's part of it."""
    item_amount_minor: int
    currency: str
    issuer: Issuer
    recipient: Recipient
    issued_at: str
    pdf_key: str = ""
    pdf_sha256: str = ""
    pdf_size: int = 0
    version: int = 1

    @property
    def contract_id(self) -> str:
        return self.parties.contract_id

    @property
    def issue_date(self) -> str:
        return self.issued_at[:10]

    @property
    def reason_text(self) -> str:
        return REASONS.get(self.reason, self.reason)

    def side(self, caller: Caller) -> Role | None:
        """The caller's side of the invoice; an admin is not a party."""
        side = self.parties.side(caller)
        return side if side in ("client", "contractor") else None


def address_lines(address: Address | None) -> list[str]:
    if address is None:
        return []
    lines = [address.line1]
    if address.line2:
        lines.append(address.line2)
    city = " ".join(p for p in (address.postal_code, address.city) if p)
    lines.append(", ".join(p for p in (city, address.region) if p))
    lines.append(address.country)
    return lines
