"""Invoice routes: thin — parse, authorize, call ``Invoicing``, respond.

The PDF is answered as bytes, not as a redirect to a presigned S3 URL: an
invoice is a few kilobytes, so nothing is gained by sending the download
elsewhere, while the bytes keep the party check on every download (a
presigned URL works for whoever holds it until it expires, and lands in
browser history and proxies' logs), need no S3 endpoint reachable from the
dashboards (the local fleet's embedded AWS is not), and carry the document's
SHA-256 in ``Repr-Digest`` for the client to compare with the ledger's.
"""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from mindlinks_kit.address import AddressOut
from mindlinks_kit.schemas import ApiModel, Cursor, Id, Limit, Page
from mindlinks_kit.tenancy import Acting, acting_or
from mindlinks_payment.deps import Deps
from mindlinks_payment.domain import Caller
from mindlinks_payment.invoices import Invoice, Issuer, Recipient

router = APIRouter(prefix="/v1/payments/invoices", tags=["invoices"])

Reader = Annotated[Acting, Depends(acting_or("payments.read", "contractor", "admin"))]
"""A member of a client company, a contractor or an admin (admins: per contract)."""
PartyReader = Annotated[Acting, Depends(acting_or("payments.read", "contractor"))]
"""A member of a client company or a contractor: the two sides of an invoice."""


class IssuerOut(ApiModel):
    contractor_id: str
    legal_name: str
    email: str
    address: AddressOut | None
    country: str | None
    tax_id: str | None

    @classmethod
    def of(cls, issuer: Issuer) -> IssuerOut:
        return cls(
            contractor_id=issuer.contractor_id,
            legal_name=issuer.legal_name,
            email=issuer.email,
            address=AddressOut.of(issuer.address) if issuer.address else None,
            country=issuer.country,
            tax_id=issuer.tax_id,
        )


class RecipientOut(ApiModel):
    company_id: str
    legal_name: str
    jurisdiction_code: str
    company_number: str
    address: AddressOut | None

    @classmethod
    def of(cls, recipient: Recipient) -> RecipientOut:
        return cls(
            company_id=recipient.company_id,
            legal_name=recipient.legal_name,
            jurisdiction_code=recipient.jurisdiction_code,
            company_number=recipient.company_number,
            address=AddressOut.of(recipient.address) if recipient.address else None,
        )


class InvoiceOut(ApiModel):
    id: str
    number: str
    """Per contractor, in sequence without gaps (``INV-000001``)."""
    contract_id: str
    contract_title: str
    escrow_id: str
    item_id: str
    item_title: str
    transfer_id: str
    reason: str
    """Why the money moved: ``approved``, ``auto-release``, ``agreed``, ``dispute``."""
    amount_minor: int
    """What reached the contractor (a split's part of the item, or all of it)."""
    item_amount_minor: int
    currency: str
    issuer: IssuerOut
    """The contractor, who issues the invoice."""
    recipient: RecipientOut
    """The client company, billed."""
    issued_at: str
    pdf_sha256: str
    pdf_size: int

    @classmethod
    def of(cls, invoice: Invoice) -> InvoiceOut:
        return cls(
            id=invoice.id,
            number=invoice.number,
            contract_id=invoice.contract_id,
            contract_title=invoice.parties.title,
            escrow_id=invoice.escrow_id,
            item_id=invoice.item_id,
            item_title=invoice.item_title,
            transfer_id=invoice.transfer_id,
            reason=invoice.reason,
            amount_minor=invoice.amount_minor,
            item_amount_minor=invoice.item_amount_minor,
            currency=invoice.currency,
            issuer=IssuerOut.of(invoice.issuer),
            recipient=RecipientOut.of(invoice.recipient),
            issued_at=invoice.issued_at,
            pdf_sha256=invoice.pdf_sha256,
            pdf_size=invoice.pdf_size,
        )


def _caller(user: Acting) -> Caller:
    return Caller(user.user_id, user.principal.role, company_id=user.tenant_id)


@router.get("")
async def invoices(
    user: Reader,
    deps: Deps,
    contract_id: Annotated[Id | None, Query(alias="contractId")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[InvoiceOut]:
    """The invoices the caller's company received (members, ``payments.read``)
    or the contractor issued, newest first; admins list one contract's
    (``?contractId=`` required)."""
    found, next_cursor = await deps.invoicing.invoices(_caller(user), contract_id, limit, cursor)
    return Page[InvoiceOut](items=[InvoiceOut.of(i) for i in found], next_cursor=next_cursor)


@router.get("/{invoice_id}")
async def invoice(invoice_id: Id, user: PartyReader, deps: Deps) -> InvoiceOut:
    """One invoice, for its two parties (the client company's members and the
    contractor); anyone else: ``404 invoice-not-found``."""
    return InvoiceOut.of(await deps.invoicing.invoice(_caller(user), invoice_id))


@router.get(
    "/{invoice_id}/pdf",
    response_class=Response,
    responses={200: {"description": "The invoice PDF", "content": {"application/pdf": {}}}},
)
async def invoice_pdf(invoice_id: Id, user: PartyReader, deps: Deps) -> Response:
    """The invoice PDF's bytes (``application/pdf``; ``Repr-Digest`` carries its
    SHA-256, as recorded on the invoice and in the ledger), for its two parties."""
    found, data = await deps.invoicing.pdf(_caller(user), invoice_id)
    digest = base64.b64encode(bytes.fromhex(found.pdf_sha256)).decode()
    return Response(
        content=data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{found.number}.pdf"',
            "Repr-Digest": f"sha-256=:{digest}:",
            "Cache-Control": "private, no-store",
        },
    )
