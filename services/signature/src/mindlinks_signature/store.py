"""The signature service's table: ``signatures`` — one item per party's
signature (listed per contract through the ``by-contract`` index) and one per
party's decline (``kind: decline``, without ``signedAt``, so not in the index).

An item is claimed ``pending`` before any outside effect and becomes
``recorded`` in the same transaction as its event; nothing else writes it."""

from __future__ import annotations

from mindlinks_kit.dynamo import ConditionFailed, Item, Table, UnitOfWork, values
from mindlinks_signature.domain import (
    AlreadySigned,
    ContractNotSignable,
    Decline,
    Receipt,
    Signature,
)


def _signature_item(signature: Signature) -> Item:
    receipt = signature.receipt
    return {
        "id": signature.id,
        "kind": "signature",
        "contractId": signature.contract_id,
        "role": signature.role,
        "signerUserId": signature.signer_user_id,
        "signatureName": signature.signature_name,
        "partyName": signature.party_name or None,
        "signedAt": signature.signed_at,
        "ipAddress": signature.ip_address,
        "userAgent": signature.user_agent,
        "pdfSha256": signature.pdf_sha256,
        "state": signature.state,
        "ledgerSeq": receipt.seq if receipt else None,
        "ledgerEntryHash": receipt.entry_hash if receipt else None,
        "ledgerRecordedAt": receipt.recorded_at if receipt else None,
        "finalPdfSha256": signature.final_pdf_sha256,
    }


def _signature_from(item: Item) -> Signature:
    receipt = (
        Receipt(
            seq=int(item["ledgerSeq"]),
            entry_hash=item["ledgerEntryHash"],
            recorded_at=item["ledgerRecordedAt"],
        )
        if item.get("ledgerSeq") is not None
        else None
    )
    return Signature(
        id=item["id"],
        contract_id=item["contractId"],
        role=item["role"],
        signer_user_id=item["signerUserId"],
        signature_name=item["signatureName"],
        signed_at=item["signedAt"],
        ip_address=item.get("ipAddress"),
        user_agent=item.get("userAgent"),
        pdf_sha256=item["pdfSha256"],
        state=item["state"],
        receipt=receipt,
        final_pdf_sha256=item.get("finalPdfSha256"),
        party_name=item.get("partyName") or "",
    )


def _decline_item(decline: Decline) -> Item:
    return {
        "id": decline.id,
        "kind": "decline",
        "contractId": decline.contract_id,
        "role": decline.role,
        "userId": decline.user_id,
        "reason": decline.reason,
        "declinedAt": decline.declined_at,
        "state": decline.state,
    }


def _decline_from(item: Item) -> Decline:
    return Decline(
        id=item["id"],
        contract_id=item["contractId"],
        role=item["role"],
        user_id=item["userId"],
        reason=item["reason"],
        declined_at=item["declinedAt"],
        state=item["state"],
    )


class SignatureStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    async def signature(self, signature_id: str) -> Signature | None:
        item = await self.table.get({"id": signature_id})
        return _signature_from(item) if item and item.get("kind") == "signature" else None

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
        return [_signature_from(i) for i in items if i.get("kind") == "signature"]

    async def page_for_contract(
        self, contract_id: str, limit: int, start: Item | None
    ) -> tuple[list[Signature], Item | None]:
        """One page of a contract's signatures in signing order (declines carry
        no ``signedAt``, so they are not in the index); the next page's start
        key only when more follow."""
        items, _ = await self.table.query(
            "contractId = :c",
            values=values(c=contract_id),
            index="by-contract",
            limit=limit + 1,
            start=start,
        )
        page = [_signature_from(i) for i in items[:limit]]
        if len(items) <= limit:
            return page, None
        tail = items[limit - 1]
        return page, {"id": tail["id"], "contractId": contract_id, "signedAt": tail["signedAt"]}

    async def decline(self, decline_id: str) -> Decline | None:
        item = await self.table.get({"id": decline_id})
        return _decline_from(item) if item and item.get("kind") == "decline" else None

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
