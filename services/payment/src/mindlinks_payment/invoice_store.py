"""Where invoices live: the ``invoices`` table (listed per contract, per
client company and per contractor through ``by-contract``,
``by-client-company`` and ``by-contractor``, newest first by ``issuedAt``),
``invoice-counters`` (per contractor, the last number issued) and the PDFs
in the ``payment-invoices`` bucket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from mindlinks_kit.dynamo import ConditionFailed, Item, StaleVersion, Table, UnitOfWork, values
from mindlinks_kit.pages import query_page
from mindlinks_kit.records import Record
from mindlinks_payment.invoices import Invoice
from mindlinks_payment.store import PARTIES

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

PDF = "application/pdf"
INVOICES = Record(Invoice, embedded={"parties": PARTIES})
"""The parties at the top level, as on escrow and transaction items (the
indexes' keys); issuer and recipient as maps."""


class InvoiceAlreadyIssued(ConditionFailed):
    """The escrow item's invoice exists: a redelivery, or a concurrent one won."""

    code = "invoice-already-issued"


class NumberTaken(StaleVersion):
    """Another invoice of the contractor took the number first: number again."""

    code = "invoice-number-taken"


class InvoiceStore:
    def __init__(self, invoices: Table, counters: Table) -> None:
        self.invoices = invoices
        self.counters = counters

    async def invoice(self, invoice_id: str) -> Invoice | None:
        item = await self.invoices.get({"id": invoice_id})
        return INVOICES.read(item) if item else None

    async def last_number(self, contractor_id: str) -> int:
        """The contractor's last sequence number (0: none issued yet)."""
        item = await self.counters.get({"contractorId": contractor_id})
        return int(item["lastSequence"]) if item else 0

    def issue(self, uow: UnitOfWork, invoice: Invoice, previous: int) -> None:
        """The invoice, and its contractor's counter moved from ``previous`` to
        its number: both commit or neither, so numbers have no gaps, and a
        counter moved by another invoice meanwhile fails this one
        (``NumberTaken``). The invoice comes first: a duplicate fails on it."""
        uow.create(
            self.invoices, INVOICES.item(invoice), key="id", on_conflict=InvoiceAlreadyIssued()
        )
        bound = values(n=invoice.sequence, id=invoice.id, at=invoice.issued_at)
        if previous == 0:
            condition = "attribute_not_exists(contractorId)"
        else:
            condition = "lastSequence = :previous"
            bound.update(values(previous=previous))
        uow.update(
            self.counters,
            {"contractorId": invoice.parties.contractor_id},
            "SET lastSequence = :n, lastInvoiceId = :id, updatedAt = :at",
            condition=condition,
            values=bound,
            on_conflict=NumberTaken(),
        )

    async def page(
        self,
        index: str,
        key: str,
        value: str,
        limit: int,
        start: Item | None,
        party: tuple[str, str] | None,
    ) -> tuple[list[Invoice], Item | None]:
        """Newest first; with ``party`` (attribute, value), only that party's."""
        where = dict([party]) if party else None
        items, last = await query_page(
            self.invoices, index, {key: value}, limit, start, forward=False, where=where
        )
        return [INVOICES.read(i) for i in items], last


class InvoiceFiles:
    """The PDFs, under content-addressed keys (``invoices.pdf_key``)."""

    def __init__(self, s3: S3Client, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    async def put(self, key: str, data: bytes, sha256: str) -> None:
        await self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=PDF,
            Metadata={"sha256": sha256},
        )

    async def get(self, key: str) -> bytes | None:
        try:
            response = await self.s3.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        async with response["Body"] as body:
            data: bytes = await body.read()
        return data
