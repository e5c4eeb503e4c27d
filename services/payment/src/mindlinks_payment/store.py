"""The payment service's storage: ``escrow`` (one item per schedule item,
listed per contract through ``by-contract``), ``transactions`` (charges and
transfers, listed per contract, per client company (``by-client-company``)
and per contractor, found by PaymentIntent through ``by-intent``),
``accounts`` (connected accounts per contractor), ``escrow-history`` (each
item's steps, append-only), the ``escrow-submissions`` bucket (the files of
submitted work), and in the derived
``idempotency`` table the processed Stripe event ids (``stripe-event:<id>``,
with a TTL) and the local provider's objects."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from mindlinks_kit.dynamo import ConditionFailed, Item, Table, UnitOfWork, values
from mindlinks_kit.pages import query_page
from mindlinks_kit.records import Record
from mindlinks_payment.domain import (
    Escrow,
    Flag,
    HistoryStep,
    Parties,
    PayoutAccount,
    ReleaseConflict,
    Transaction,
)

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

EVENT_PREFIX = "stripe-event:"
LOCAL_PREFIX = "local-stripe:"


class EventAlreadyProcessed(ConditionFailed):
    code = "stripe-event-processed"
    title = "This Stripe event was already processed"


PARTIES = Record(Parties, names={"title": "contractTitle"}, absent={"title": ""})
"""A contract's parties, stored in each escrow and transaction item beside the
rest. Every item has carried ``clientCompanyId`` since the first one was
written, so the ``by-client-company`` index (added with company roles) holds
every stored transaction: DynamoDB fills a new index from the items already
there, and no backfill is needed. ``by-client`` (per drafting user) is no
longer read; it goes in a later change, once the new index is active (one
index is created or deleted per table update)."""
ESCROWS = Record(Escrow, embedded={"parties": PARTIES}, absent={"position": 0})
TRANSACTIONS = Record(Transaction, embedded={"parties": PARTIES})
FLAGS = Record(Flag)
ACCOUNTS = Record(PayoutAccount)
HISTORY = Record(HistoryStep)
FINAL_STATES = ("released", "refunded", "split", "cancelled")


class PaymentStore:
    def __init__(
        self,
        escrow: Table,
        transactions: Table,
        accounts: Table,
        idempotency: Table,
        *,
        history: Table,
    ) -> None:
        self.escrows = escrow
        self.transactions = transactions
        self.accounts = accounts
        self.idempotency = idempotency
        self.history = history

    # escrow
    async def escrow(self, escrow: str) -> Escrow | None:
        item = await self.escrows.get({"id": escrow})
        return ESCROWS.read(item) if item else None

    async def escrows_by_id(self, ids: list[str]) -> list[Escrow | None]:
        """Escrows by id, read together (``None`` where there is none)."""
        items = await self.escrows.get_many([{"id": i} for i in ids])
        return [ESCROWS.read(item) if item else None for item in items]

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
            found.extend(ESCROWS.read(i) for i in items)
            if start is None:
                return sorted(found, key=lambda e: (e.position, e.item_id))

    def create_escrow(self, uow: UnitOfWork, escrow: Escrow) -> None:
        uow.create(self.escrows, ESCROWS.item(escrow), key="id")

    def advance_escrow(self, uow: UnitOfWork, before: Escrow, after: Escrow) -> None:
        """Write ``after`` if the item is still as ``before`` was read (its version)."""
        uow.replace(self.escrows, ESCROWS.item(after), expected_version=before.version)

    def guard_unsettled(self, uow: UnitOfWork, escrow: Escrow) -> None:
        """Commit only if ``escrow`` is still not in a final state then (a no-op
        write): what ``allSettled`` says of the others holds at commit."""
        uow.update(
            self.escrows,
            {"id": escrow.id},
            "SET #s = #s",
            condition="attribute_exists(id) AND NOT #s IN (:a, :b, :c, :d)",
            names={"#s": "state"},
            values=values(
                a=FINAL_STATES[0], b=FINAL_STATES[1], c=FINAL_STATES[2], d=FINAL_STATES[3]
            ),
            on_conflict=ReleaseConflict(),
        )

    # history
    def add_step(self, uow: UnitOfWork, step: HistoryStep) -> None:
        uow.create(self.history, HISTORY.item(step), key="escrowId")

    async def history_of(self, escrow_id: str) -> list[HistoryStep]:
        found: list[HistoryStep] = []
        start: Item | None = None
        while True:
            items, start = await self.history.query(
                "escrowId = :e", values=values(e=escrow_id), limit=100, start=start
            )
            found.extend(HISTORY.read(i) for i in items)
            if start is None:
                return sorted(found, key=lambda s: s.step_id)

    # transactions
    async def transaction(self, transaction: str) -> Transaction | None:
        item = await self.transactions.get({"id": transaction})
        return TRANSACTIONS.read(item) if item else None

    async def transactions_by_id(self, ids: list[str]) -> list[Transaction | None]:
        """Transactions by id, read together (``None`` where there is none)."""
        items = await self.transactions.get_many([{"id": i} for i in ids])
        return [TRANSACTIONS.read(item) if item else None for item in items]

    async def transaction_by_intent(self, intent_id: str) -> Transaction | None:
        items, _ = await self.transactions.query(
            "paymentIntentId = :p", values=values(p=intent_id), index="by-intent", limit=1
        )
        return TRANSACTIONS.read(items[0]) if items else None

    def create_transaction(self, uow: UnitOfWork, transaction: Transaction) -> None:
        uow.create(self.transactions, TRANSACTIONS.item(transaction), key="id")

    def replace_transaction(
        self, uow: UnitOfWork, transaction: Transaction, expected_version: int
    ) -> None:
        uow.replace(
            self.transactions, TRANSACTIONS.item(transaction), expected_version=expected_version
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
                values=values(flag=FLAGS.item(flag), one=1),
            )
        except ConditionFailed:
            return await self.transaction(transaction)
        return TRANSACTIONS.read(item)

    async def page_transactions(
        self,
        index: str,
        key: str,
        value: str,
        limit: int,
        start: Item | None,
        party: tuple[str, str] | None,
    ) -> tuple[list[Transaction], Item | None]:
        """Newest first; with ``party`` (attribute, value), only that party's."""
        where = dict([party]) if party else None
        items, last = await query_page(
            self.transactions, index, {key: value}, limit, start, forward=False, where=where
        )
        return [TRANSACTIONS.read(i) for i in items], last

    # accounts
    async def account(self, contractor_id: str) -> PayoutAccount | None:
        item = await self.accounts.get({"contractorId": contractor_id})
        return ACCOUNTS.read(item) if item else None

    async def create_account(self, account: PayoutAccount) -> None:
        await self.accounts.put(
            ACCOUNTS.item(account),
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


class SubmissionBucket:
    """``escrow-submissions``: contractors upload their work straight to S3
    with a presigned POST admitting exactly the declared file (type and size);
    the parties read it back through short-lived presigned GETs."""

    def __init__(self, s3: S3Client, name: str) -> None:
        self.s3 = s3
        self.name = name

    async def presigned_post(
        self, key: str, content_type: str, size: int, expires_in: int
    ) -> tuple[str, dict[str, str]]:
        post: dict[str, Any] = await self.s3.generate_presigned_post(
            Bucket=self.name,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", size, size]],
            ExpiresIn=expires_in,
        )
        return str(post["url"]), {str(k): str(v) for k, v in post["fields"].items()}

    async def uploaded(self, key: str) -> tuple[str, int] | None:
        """The object's (content type, size) as S3 holds it, or ``None``."""
        try:
            head = await self.s3.head_object(Bucket=self.name, Key=key)
        except self.s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return str(head.get("ContentType", "")), int(head["ContentLength"])

    async def download_url(self, key: str, filename: str, expires_in: int) -> str:
        url: str = await self.s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.name,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
            },
            ExpiresIn=expires_in,
        )
        return url


_SEEN_AT_MOST = 10_000


class LocalObjects:
    """The local provider's "Stripe side": its objects as JSON documents in the
    service's own table, so local payments survive a restart. The local Stripe
    lives in the one payment process of a local fleet, which writes every
    object it holds: it keeps what it wrote or read and reads the table only
    for what it has not seen (after a restart, say)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._seen: dict[str, str] = {}
        """Object id → its JSON document as last written or read here (forgotten
        all at once past ``_SEEN_AT_MOST``: a long load run stays small)."""

    def _remember(self, object_id: str, raw: str) -> str:
        if len(self._seen) >= _SEEN_AT_MOST:
            self._seen.clear()
        self._seen[object_id] = raw
        return raw

    async def get(self, object_id: str) -> dict[str, Any] | None:
        raw = self._seen.get(object_id)
        if raw is None:
            item = await self.table.get({"key": LOCAL_PREFIX + object_id})
            if item is None:
                return None
            raw = self._remember(object_id, str(item["document"]))
        document: dict[str, Any] = json.loads(raw)
        return document

    async def create(self, object_id: str, document: dict[str, Any]) -> dict[str, Any]:
        """Store a new object; if one exists under that id, return it instead."""
        raw = json.dumps(document)
        try:
            await self.table.put(
                {"key": LOCAL_PREFIX + object_id, "document": raw},
                condition="attribute_not_exists(#k)",
                names={"#k": "key"},
            )
        except ConditionFailed:
            existing = await self.get(object_id)
            if existing is None:
                raise
            return existing
        self._remember(object_id, raw)
        return document

    async def put(self, object_id: str, document: dict[str, Any]) -> None:
        raw = json.dumps(document)
        await self.table.put({"key": LOCAL_PREFIX + object_id, "document": raw})
        self._remember(object_id, raw)
