"""The signature service's table: ``signatures`` — one item per party's
signature (listed per contract through the ``by-contract`` index) and one per
party's decline (``kind: decline``, without ``signedAt``, so not in the index).

An item is claimed ``pending`` before any outside effect and becomes
``recorded`` in the same transaction as its event; nothing else writes it."""

from __future__ import annotations

from mindlinks_kit.dynamo import ConditionFailed, Item, Table, UnitOfWork, values
from mindlinks_kit.pages import query_page
from mindlinks_kit.records import Record
from mindlinks_signature.domain import (
    AlreadySigned,
    ContractNotSignable,
    Decline,
    Receipt,
    Signature,
)

SIGNATURES = Record(
    Signature,
    embedded={
        "receipt": Record(
            Receipt,
            names={
                "seq": "ledgerSeq",
                "entry_hash": "ledgerEntryHash",
                "recorded_at": "ledgerRecordedAt",
            },
        )
    },
)
"""A signature, its ledger receipt as ``ledgerSeq``, ``ledgerEntryHash`` and
``ledgerRecordedAt`` beside the rest; an empty ``party_name`` is not stored."""
DECLINES = Record(Decline)


def _signature_item(signature: Signature) -> Item:
    return {
        **SIGNATURES.item(signature),
        "kind": "signature",
        "partyName": signature.party_name or None,
    }


def _decline_item(decline: Decline) -> Item:
    return {**DECLINES.item(decline), "kind": "decline"}


class SignatureStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    async def signature(self, signature_id: str) -> Signature | None:
        item = await self.table.get({"id": signature_id})
        return SIGNATURES.read(item) if item and item.get("kind") == "signature" else None

    async def claim(self, signature: Signature) -> Signature:
        """Store a pending signature unless one exists; answers the stored one
        (ours, or a concurrent twin's that got there first)."""
        try:
            await self.table.put(_signature_item(signature), condition="attribute_not_exists(id)")
        except ConditionFailed:
            existing = await self.signature(signature.id)
            if existing is None:
                raise
            return existing
        return signature

    def record(self, uow: UnitOfWork, signature: Signature) -> None:
        """Pending → recorded, with its receipt; a twin that recorded it first
        makes this commit fail with ``already-signed``."""
        uow.put(
            self.table,
            _signature_item(signature),
            condition="#s = :pending",
            names={"#s": "state"},
            values=values(pending="pending"),
            on_conflict=AlreadySigned(),
        )

    async def for_contract(self, contract_id: str) -> list[Signature]:
        items, _ = await self.table.query(
            "contractId = :c", values=values(c=contract_id), index="by-contract", limit=20
        )
        return [SIGNATURES.read(i) for i in items if i.get("kind") == "signature"]

    async def completing(self, final_pdf_sha256: str) -> Signature | None:
        """The recorded signature that completed the contract whose sealed
        final document has this SHA-256 (the sparse ``by-final-hash`` index)."""
        items, _ = await self.table.query(
            "finalPdfSha256 = :h", values=values(h=final_pdf_sha256), index="by-final-hash", limit=5
        )
        for item in items:
            if item.get("kind") == "signature" and item.get("state") == "recorded":
                return SIGNATURES.read(item)
        return None

    async def page_for_contract(
        self, contract_id: str, limit: int, start: Item | None
    ) -> tuple[list[Signature], Item | None]:
        """One page of a contract's signatures in signing order (declines carry
        no ``signedAt``, so they are not in the index); the next page's start
        key only when more follow."""
        items, last = await query_page(
            self.table, "by-contract", {"contractId": contract_id}, limit, start
        )
        return [SIGNATURES.read(i) for i in items], last

    async def decline(self, decline_id: str) -> Decline | None:
        item = await self.table.get({"id": decline_id})
        return DECLINES.read(item) if item and item.get("kind") == "decline" else None

    async def claim_decline(self, decline: Decline) -> Decline:
        try:
            await self.table.put(_decline_item(decline), condition="attribute_not_exists(id)")
        except ConditionFailed:
            existing = await self.decline(decline.id)
            if existing is None:
                raise
            return existing
        return decline

    def record_decline(self, uow: UnitOfWork, decline: Decline) -> None:
        uow.put(
            self.table,
            {**_decline_item(decline), "state": "recorded"},
            condition="#s = :pending",
            names={"#s": "state"},
            values=values(pending="pending"),
            on_conflict=ContractNotSignable("You have already declined this contract"),
        )
