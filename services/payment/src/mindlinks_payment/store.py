"""The payment service's storage: ``escrow`` (one item per schedule item,
listed per contract through ``by-contract``), ``transactions`` (charges and
transfers, listed per contract, per client and per contractor, found by
PaymentIntent through ``by-intent``), ``accounts`` (connected accounts per
contractor), and in the derived ``idempotency`` table the processed Stripe
event ids (``stripe-event:<id>``, with a TTL) and the local provider's objects."""

from __future__ import annotations

import json
import time
from typing import Any

from mindlinks_kit.dynamo import ConditionFailed, Item, Table, UnitOfWork, values
from mindlinks_payment.domain import (
    Escrow,
    Flag,
    Parties,
    PayoutAccount,
    ReleaseConflict,
    Transaction,
)

EVENT_PREFIX = "stripe-event:"
LOCAL_PREFIX = "local-stripe:"


class EventAlreadyProcessed(ConditionFailed):
    code = "stripe-event-processed"
    title = "This Stripe event was already processed"


def _parties_item(p: Parties) -> Item:
    return {
        "contractId": p.contract_id,
        "contractTitle": p.title,
        "clientCompanyId": p.client_company_id,
        "clientUserId": p.client_user_id,
        "contractorId": p.contractor_id,
        "contractorUserId": p.contractor_user_id,
    }


def _parties(item: Item) -> Parties:
    return Parties(
        contract_id=item["contractId"],
        title=item.get("contractTitle", ""),
        client_company_id=item["clientCompanyId"],
        client_user_id=item["clientUserId"],
        contractor_id=item["contractorId"],
        contractor_user_id=item["contractorUserId"],
    )


def escrow_item(e: Escrow) -> Item:
    return {
        "id": e.id,
        **_parties_item(e.parties),
        "itemId": e.item_id,
        "position": e.position,
        "title": e.title,
        "amountMinor": e.amount_minor,
        "currency": e.currency,
        "dueDate": e.due_date,
        "state": e.state,
        "transactionId": e.transaction_id,
        "paymentIntentId": e.payment_intent_id,
        "chargeId": e.charge_id,
        "transferId": e.transfer_id,
        "fundedAt": e.funded_at,
        "releasedAt": e.released_at,
        "createdAt": e.created_at,
        "updatedAt": e.updated_at,
        "version": e.version,
    }


def escrow_from(item: Item) -> Escrow:
    return Escrow(
        id=item["id"],
        parties=_parties(item),
        item_id=item["itemId"],
        position=int(item.get("position", 0)),
        title=item["title"],
        amount_minor=int(item["amountMinor"]),
        currency=item["currency"],
        due_date=item["dueDate"],
        state=item["state"],
        transaction_id=item["transactionId"],
        payment_intent_id=item["paymentIntentId"],
        charge_id=item.get("chargeId"),
        transfer_id=item.get("transferId"),
        funded_at=item.get("fundedAt"),
        released_at=item.get("releasedAt"),
        created_at=item["createdAt"],
        updated_at=item["updatedAt"],
        version=int(item.get("version", 1)),
    )


def transaction_item(t: Transaction) -> Item:
    return {
        "id": t.id,
        "kind": t.kind,
        **_parties_item(t.parties),
        "itemId": t.item_id,
        "escrowId": t.escrow_id,
        "amountMinor": t.amount_minor,
        "currency": t.currency,
        "status": t.status,
        "paymentIntentId": t.payment_intent_id,
        "clientSecret": t.client_secret,
        "chargeId": t.charge_id,
        "transferId": t.transfer_id,
        "destination": t.destination,
        "failureCode": t.failure_code,
        "failureMessage": t.failure_message,
        "flag": _flag_item(t.flag) if t.flag else None,
        "createdAt": t.created_at,
        "updatedAt": t.updated_at,
        "version": t.version,
    }


def _flag_item(f: Flag) -> Item:
    return {"reason": f.reason, "flaggedBy": f.flagged_by, "flaggedAt": f.flagged_at}


def _flag_from(item: Item | None) -> Flag | None:
    if not item:
        return None
    return Flag(reason=item["reason"], flagged_by=item["flaggedBy"], flagged_at=item["flaggedAt"])


def transaction_from(item: Item) -> Transaction:
    return Transaction(
        id=item["id"],
        kind=item["kind"],
        parties=_parties(item),
        item_id=item["itemId"],
        escrow_id=item["escrowId"],
        amount_minor=int(item["amountMinor"]),
        currency=item["currency"],
        status=item["status"],
        payment_intent_id=item.get("paymentIntentId"),
        client_secret=item.get("clientSecret"),
        charge_id=item.get("chargeId"),
        transfer_id=item.get("transferId"),
        destination=item.get("destination"),
        failure_code=item.get("failureCode"),
        failure_message=item.get("failureMessage"),
        flag=_flag_from(item.get("flag")),
        created_at=item["createdAt"],
        updated_at=item["updatedAt"],
        version=int(item.get("version", 1)),
    )


def account_item(a: PayoutAccount) -> Item:
    return {
        "contractorId": a.contractor_id,
        "userId": a.user_id,
        "accountId": a.account_id,
        "email": a.email,
        "chargesEnabled": a.charges_enabled,
        "payoutsEnabled": a.payouts_enabled,
        "detailsSubmitted": a.details_submitted,
        "transfersActive": a.transfers_active,
        "createdAt": a.created_at,
        "updatedAt": a.updated_at,
        "version": a.version,
    }


def account_from(item: Item) -> PayoutAccount:
    return PayoutAccount(
        contractor_id=item["contractorId"],
        user_id=item["userId"],
        account_id=item["accountId"],
        email=item["email"],
        charges_enabled=bool(item.get("chargesEnabled")),
        payouts_enabled=bool(item.get("payoutsEnabled")),
        details_submitted=bool(item.get("detailsSubmitted")),
        transfers_active=bool(item.get("transfersActive")),
        created_at=item["createdAt"],
        updated_at=item["updatedAt"],
        version=int(item.get("version", 1)),
    )


class PaymentStore:
    def __init__(
        self, escrow: Table, transactions: Table, accounts: Table, idempotency: Table
    ) -> None:
        self.escrows = escrow
        self.transactions = transactions
        self.accounts = accounts
        self.idempotency = idempotency

    # escrow
    async def escrow(self, escrow: str) -> Escrow | None:
        item = await self.escrows.get({"id": escrow})
        return escrow_from(item) if item else None

    async def escrows_of(self, contract_id: str) -> list[Escrow]:
        """Every escrow of a contract, in schedule order."""
        found: list[Escrow] = []
        start: Item | None = None
        while True:
            items, start = await self.escrows.query(
                "contractId = :c",
                values=values(c=contract_id),
                index="by-contract",
                limit=100,
                start=start,
            )
            found.extend(escrow_from(i) for i in items)
            if start is None:
                return sorted(found, key=lambda e: (e.position, e.item_id))

    def create_escrow(self, uow: UnitOfWork, escrow: Escrow) -> None:
        uow.create(self.escrows, escrow_item(escrow), key="id")

    def replace_escrow(self, uow: UnitOfWork, escrow: Escrow, expected_version: int) -> None:
        uow.replace(self.escrows, escrow_item(escrow), expected_version=expected_version)

    def guard_not_released(self, uow: UnitOfWork, escrow: Escrow) -> None:
        """Commit only if ``escrow`` is still unreleased then (a no-op write)."""
        uow.update(
            self.escrows,
            {"id": escrow.id},
            "SET #s = #s",
            condition="attribute_exists(id) AND #s <> :released",
            names={"#s": "state"},
            values=values(released="released"),
            on_conflict=ReleaseConflict(),
        )

    # transactions
    async def transaction(self, transaction: str) -> Transaction | None:
        item = await self.transactions.get({"id": transaction})
        return transaction_from(item) if item else None

    async def transaction_by_intent(self, intent_id: str) -> Transaction | None:
        items, _ = await self.transactions.query(
            "paymentIntentId = :p", values=values(p=intent_id), index="by-intent", limit=1
        )
        return transaction_from(items[0]) if items else None

    def create_transaction(self, uow: UnitOfWork, transaction: Transaction) -> None:
        uow.create(self.transactions, transaction_item(transaction), key="id")

    def replace_transaction(
        self, uow: UnitOfWork, transaction: Transaction, expected_version: int
    ) -> None:
        uow.replace(
            self.transactions, transaction_item(transaction), expected_version=expected_version
        )

    async def flag_transaction(self, transaction: str, flag: Flag) -> Transaction | None:
        """Record ``flag`` unless the transaction has one already (the first
        flag stays); the transaction as it is now, or ``None`` if unknown.

        Only the flag and the version change. Bumping the version makes a
        webhook that read the transaction before the flag fail its optimistic
        lock (Stripe retries it) instead of rewriting the item without it."""
        try:
            item = await self.transactions.update(
                {"id": transaction},
                "SET #flag = :flag ADD version :one",
                condition="attribute_exists(id) AND attribute_not_exists(#flag)",
                names={"#flag": "flag"},
                values=values(flag=_flag_item(flag), one=1),
            )
        except ConditionFailed:
            return await self.transaction(transaction)
        return transaction_from(item)

    async def page_transactions(
        self,
        index: str,
        key: str,
        value: str,
        limit: int,
        start: Item | None,
        party: tuple[str, str] | None,
    ) -> tuple[list[Transaction], Item | None]:
        """Newest first. Reads one more than asked so the last page has no cursor."""
        names: dict[str, str] | None = None
        filter_expression: str | None = None
        expression_values = {"k": value}
        if party is not None:
            names = {"#party": party[0]}
            filter_expression = "#party = :party"
            expression_values["party"] = party[1]
        items, _ = await self.transactions.query(
            f"{key} = :k",
            values=values(**expression_values),
            names=names,
            index=index,
            limit=limit + 1,
            start=start,
            forward=False,
            filter_expression=filter_expression,
        )
        page = [transaction_from(i) for i in items[:limit]]
        if len(items) <= limit:
            return page, None
        last = items[limit - 1]
        return page, {"id": last["id"], key: last[key], "createdAt": last["createdAt"]}

    # accounts
    async def account(self, contractor_id: str) -> PayoutAccount | None:
        item = await self.accounts.get({"contractorId": contractor_id})
        return account_from(item) if item else None

    async def create_account(self, account: PayoutAccount) -> None:
        await self.accounts.put(
            account_item(account),
            condition="attribute_not_exists(contractorId)",
        )

    async def save_account_status(self, account: PayoutAccount) -> None:
        """Last writer wins: the status is Stripe's, read fresh each time."""
        await self.accounts.update(
            {"contractorId": account.contractor_id},
            "SET chargesEnabled = :c, payoutsEnabled = :p, detailsSubmitted = :d,"
            " transfersActive = :t, updatedAt = :u ADD version :one",
            condition="attribute_exists(contractorId)",
            values=values(
                c=account.charges_enabled,
                p=account.payouts_enabled,
                d=account.details_submitted,
                t=account.transfers_active,
                u=account.updated_at,
                one=1,
            ),
        )

    # processed Stripe events
    async def event_processed(self, event_id: str) -> bool:
        return await self.idempotency.get({"key": EVENT_PREFIX + event_id}) is not None

    def record_event(
        self, uow: UnitOfWork, event_id: str, event_type: str, at: str, retention: int
    ) -> None:
        uow.create(
            self.idempotency,
            {
                "key": EVENT_PREFIX + event_id,
                "eventType": event_type,
                "processedAt": at,
                "expiresAt": int(time.time()) + retention,
            },
            key="key",
            on_conflict=EventAlreadyProcessed(),
        )


class LocalObjects:
    """The local provider's "Stripe side": its objects as JSON documents in the
    service's own table, so local payments survive a restart."""

    def __init__(self, table: Table) -> None:
        self.table = table

    async def get(self, object_id: str) -> dict[str, Any] | None:
        item = await self.table.get({"key": LOCAL_PREFIX + object_id})
        if item is None:
            return None
        document: dict[str, Any] = json.loads(item["document"])
        return document

    async def create(self, object_id: str, document: dict[str, Any]) -> dict[str, Any]:
        """Store a new object; if one exists under that id, return it instead."""
        try:
            await self.table.put(
                {"key": LOCAL_PREFIX + object_id, "document": json.dumps(document)},
                condition="attribute_not_exists(#k)",
                names={"#k": "key"},
            )
        except ConditionFailed:
            existing = await self.get(object_id)
            if existing is None:
                raise
            return existing
        return document

    async def put(self, object_id: str, document: dict[str, Any]) -> None:
        await self.table.put({"key": LOCAL_PREFIX + object_id, "document": json.dumps(document)})
