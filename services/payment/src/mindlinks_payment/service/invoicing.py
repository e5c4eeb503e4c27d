"""Issuing invoices on ``payment.released``, and who reads them.

Issuing one: the invoice's id derives from the escrow item, so a redelivered
release finds it. Otherwise the contractor's last number is read, the PDF is
rendered with the next one and stored (under its SHA-256), and one
transaction creates the invoice, moves the counter from the number read to
the next one and publishes ``payment.invoice-issued``. Two releases for one
contractor at once both read the same last number; one commits and the other
fails its counter condition, reads again and numbers again (a few times,
then the event is redelivered). So numbers are consecutive and never
repeat. A losing attempt's PDF stays behind under its own key; the invoice
names the one that was recorded.

No FastAPI here; this module commits its own units of work (the consumer's
holds only its inbox record).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

import structlog

from mindlinks_fleet.events import InvoiceIssued, PaymentReleased
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import CursorCodec, Item, StaleVersion, UnitOfWork
from mindlinks_kit.runtime import Publish
from mindlinks_payment.domain import Caller, Escrow, listing
from mindlinks_payment.invoice_pdf import render_invoice
from mindlinks_payment.invoice_store import InvoiceAlreadyIssued
from mindlinks_payment.invoices import (
    Invoice,
    InvoiceFileMissing,
    InvoiceNotFound,
    InvoicePartyUnknown,
    Issuer,
    Recipient,
    invoice_id_for,
    invoice_number,
    pdf_key,
)

log = structlog.get_logger("mindlinks.invoices")
ATTEMPTS = 5
"""Numbering attempts per delivery when other invoices of the contractor commit first."""


class Store(Protocol):
    async def invoice(self, invoice_id: str) -> Invoice | None: ...
    async def last_number(self, contractor_id: str) -> int: ...
    def issue(self, uow: UnitOfWork, invoice: Invoice, previous: int) -> None: ...
    async def page(
        self,
        index: str,
        key: str,
        value: str,
        limit: int,
        start: Item | None,
        party: tuple[str, str] | None,
    ) -> tuple[list[Invoice], Item | None]: ...


class Files(Protocol):
    async def put(self, key: str, data: bytes, sha256: str) -> None: ...
    async def get(self, key: str) -> bytes | None: ...


class Parties(Protocol):
    async def recipient(self, company_id: str) -> Recipient | None: ...
    async def issuer(self, contractor_user_id: str) -> Issuer | None: ...


class Escrows(Protocol):
    async def escrow(self, escrow: str) -> Escrow | None: ...


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Invoicing:
    def __init__(
        self,
        *,
        store: Store,
        files: Files,
        escrows: Escrows,
        parties: Parties,
        publish: Publish,
        uow: Callable[[], UnitOfWork],
        cursors: CursorCodec,
    ) -> None:
        self.store = store
        self.files = files
        self.escrows = escrows
        self.parties = parties
        self.publish = publish
        self.uow = uow
        self.cursors = cursors

    # -- payment.released ---------------------------------------------------

    async def issue(self, released: PaymentReleased) -> Invoice:
        """The release's invoice: issued now, or the one issued before."""
        invoice_id = invoice_id_for(released.escrow_id)
        existing = await self.store.invoice(invoice_id)
        if existing is not None:
            return existing
        escrow = await self.escrows.escrow(released.escrow_id)
        if escrow is None:
            raise InvoicePartyUnknown(f"no escrow {released.escrow_id}")
        recipient = await self.parties.recipient(escrow.parties.client_company_id)
        issuer = await self.parties.issuer(escrow.parties.contractor_user_id)
        if recipient is None or issuer is None:
            raise InvoicePartyUnknown(f"a party of escrow {escrow.id} is unknown")
        issued_at = now_iso()
        for _ in range(ATTEMPTS):
            previous = await self.store.last_number(escrow.parties.contractor_id)
            invoice = Invoice(
                id=invoice_id,
                number=invoice_number(previous + 1),
                sequence=previous + 1,
                parties=escrow.parties,
                escrow_id=escrow.id,
                item_id=escrow.item_id,
                item_title=escrow.title,
                transfer_id=released.transfer_id,
                reason=released.reason,
                amount_minor=released.amount_minor,
                item_amount_minor=escrow.amount_minor,
                currency=released.currency,
                issuer=issuer,
                recipient=recipient,
                issued_at=issued_at,
            )
            data = await asyncio.to_thread(render_invoice, invoice)
            digest = sha256_hex(data)
            invoice = replace(
                invoice, pdf_key=pdf_key(invoice_id, digest), pdf_sha256=digest, pdf_size=len(data)
            )
            await self.files.put(invoice.pdf_key, data, digest)
            uow = self.uow()
            self.store.issue(uow, invoice, previous)
            self.publish(uow, "payment.invoice-issued", _issued(invoice))
            try:
                await uow.commit()
            except InvoiceAlreadyIssued:
                found = await self.store.invoice(invoice_id)
                if found is None:  # pragma: no cover - an invoice is never deleted
                    raise
                return found
            except StaleVersion:  # the number was taken, or a concurrent write came first
                continue
            log.info("invoice.issued", invoice_id=invoice.id, number=invoice.number)
            return invoice
        raise StaleVersion(f"invoice numbering for {escrow.parties.contractor_id} stayed contended")

    # -- reading ------------------------------------------------------------

    async def invoices(
        self, caller: Caller, contract_id: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Invoice], str | None]:
        """The caller's invoices, newest first: a member's company's (received),
        a contractor's own (issued); an admin lists one contract's."""
        owner = caller.company_id or caller.user_id
        scope = f"invoices:{caller.role}:{owner}:{contract_id or '*'}"
        start = self.cursors.decode(cursor, scope)
        where = listing(caller, contract_id)
        if where is None:
            return [], None
        found, last = await self.store.page(
            where.index, where.key, where.value, limit, start, where.party
        )
        return found, self.cursors.encode(last, scope)

    async def invoice(self, caller: Caller, invoice_id: str) -> Invoice:
        """One invoice, for its two parties only; anyone else: 404."""
        invoice = await self.store.invoice(invoice_id)
        if invoice is None or invoice.side(caller) is None:
            raise InvoiceNotFound()
        return invoice

    async def pdf(self, caller: Caller, invoice_id: str) -> tuple[Invoice, bytes]:
        invoice = await self.invoice(caller, invoice_id)
        data = await self.files.get(invoice.pdf_key)
        if data is None:
            log.error("invoice.file_missing", invoice_id=invoice.id, key=invoice.pdf_key)
            raise InvoiceFileMissing()
        return invoice, data


def _issued(invoice: Invoice) -> InvoiceIssued:
    parties = invoice.parties
    return InvoiceIssued(
        invoice_id=invoice.id,
        number=invoice.number,
        escrow_id=invoice.escrow_id,
        contract_id=parties.contract_id,
        contractor_id=parties.contractor_id,
        contractor_user_id=parties.contractor_user_id,
        client_company_id=parties.client_company_id,
        client_user_id=parties.client_user_id,
        amount_minor=invoice.amount_minor,
        currency=invoice.currency,
        pdf_sha256=invoice.pdf_sha256,
        issued_at=invoice.issued_at,
    )
