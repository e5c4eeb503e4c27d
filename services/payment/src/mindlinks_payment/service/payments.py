"""The payment use cases: one PaymentIntent and one escrow per schedule
item, created once; who sees a schedule and its client secrets. What
happens to an item once paid is ``service.escrow`` and ``service.settlement``.

No FastAPI here; routes and the consumer commit the unit of work, never this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import structlog

from mindlinks_fleet.events import (
    ContractActivated,
    ContractAmended,
    PaymentIntentCreated,
    ScheduleItem,
)
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import CursorCodec, Item, UnitOfWork
from mindlinks_kit.runtime import Publish
from mindlinks_kit.schemas import from_attributes
from mindlinks_payment.domain import (
    Caller,
    Escrow,
    HistoryStep,
    Parties,
    ScheduleNotFound,
    ScheduleView,
    Transaction,
    charge_id_for,
    escrow_id,
    listing,
)
from mindlinks_payment.lifecycle import history_step
from mindlinks_payment.providers import PaymentsProvider

log = structlog.get_logger("mindlinks.payments")

ITEMS_PER_COMMIT = 24
"""Four writes per item (escrow, its first history step, charge, event): a
DynamoDB transaction holds 100."""

Scheduling = ContractActivated | ContractAmended
"""An event that schedules items: the activation (the whole schedule) or an
amendment in force (its added items); both name the contract's parties, its
currency and its review days."""


class Store(Protocol):
    async def escrow(self, escrow: str) -> Escrow | None: ...
    async def escrows_of(self, contract_id: str) -> list[Escrow]: ...
    async def escrows_by_id(self, ids: list[str]) -> list[Escrow | None]: ...
    def create_escrow(self, uow: UnitOfWork, escrow: Escrow) -> None: ...
    def add_step(self, uow: UnitOfWork, step: HistoryStep) -> None: ...
    async def transaction(self, transaction: str) -> Transaction | None: ...
    async def transactions_by_id(self, ids: list[str]) -> list[Transaction | None]: ...
    def create_transaction(self, uow: UnitOfWork, transaction: Transaction) -> None: ...
    async def page_transactions(
        self,
        index: str,
        key: str,
        value: str,
        limit: int,
        start: Item | None,
        party: tuple[str, str] | None,
    ) -> tuple[list[Transaction], Item | None]: ...


class Contracts(Protocol):
    async def parties(self, contract_id: str) -> Parties | None: ...


class Payments:
    def __init__(
        self,
        *,
        store: Store,
        provider: PaymentsProvider,
        contracts: Contracts,
        publish: Publish,
        cursors: CursorCodec,
        stripe_key: Callable[[str, str], str],
    ) -> None:
        self.store = store
        self.provider = provider
        self.contracts = contracts
        self.publish = publish
        self.cursors = cursors
        self.stripe_key = stripe_key
        """Stripe idempotency key for one of our objects (kind, id), per environment."""

    # -- ledger.contract-activated, contract.amended --------------------------

    async def unopened(
        self, contract: str, items: list[tuple[int, ScheduleItem]]
    ) -> list[tuple[int, ScheduleItem]]:
        """Of the schedule items (with their position), those with no escrow yet."""
        found = await self.store.escrows_by_id([escrow_id(contract, i.item_id) for _, i in items])
        pending: list[tuple[int, ScheduleItem]] = []
        for (position, item), existing in zip(items, found, strict=True):
            if existing is not None:
                continue
            if item.amount_minor <= 0:
                log.warning("schedule.item_skipped", contract_id=contract, item_id=item.item_id)
                continue
            pending.append((position, item))
        return pending

    async def open_item(
        self, scheduling: Scheduling, position: int, item: ScheduleItem, uow: UnitOfWork
    ) -> Escrow:
        """A PaymentIntent held by the platform, its escrow and its charge."""
        parties = from_attributes(Parties, scheduling)
        currency = scheduling.currency.upper()
        escrow = escrow_id(parties.contract_id, item.item_id)
        transaction = charge_id_for(parties.contract_id, item.item_id)
        intent = await self.provider.create_intent(
            amount_minor=item.amount_minor,
            currency=currency,
            transfer_group=parties.contract_id,
            metadata={
                "contractId": parties.contract_id,
                "itemId": item.item_id,
                "escrowId": escrow,
                "transactionId": transaction,
            },
            idempotency_key=self.stripe_key("intent", transaction),
        )
        now = now_iso()
        opened = Escrow(
            id=escrow,
            parties=parties,
            item_id=item.item_id,
            position=position,
            title=item.title,
            amount_minor=item.amount_minor,
            currency=currency,
            due_date=item.due_date,
            state="pending_funding",
            transaction_id=transaction,
            payment_intent_id=intent.id,
            created_at=now,
            updated_at=now,
            review_days=scheduling.review_days,
        )
        self.store.create_escrow(uow, opened)
        self.store.add_step(uow, history_step(None, opened, "opened", by_side="system"))
        self.store.create_transaction(
            uow,
            Transaction(
                id=transaction,
                kind="charge",
                parties=parties,
                item_id=item.item_id,
                escrow_id=escrow,
                amount_minor=item.amount_minor,
                currency=currency,
                status="requires_payment",
                created_at=now,
                updated_at=now,
                payment_intent_id=intent.id,
                client_secret=intent.client_secret,
            ),
        )
        self.publish(
            uow,
            "payment.intent-created",
            PaymentIntentCreated(
                contract_id=parties.contract_id,
                item_id=item.item_id,
                transaction_id=transaction,
                payment_intent_id=intent.id,
                amount_minor=item.amount_minor,
                currency=currency,
            ),
        )
        return opened

    # -- reading ------------------------------------------------------------

    async def contract_items(self, contract_id: str) -> list[Escrow]:
        """Every escrowed item of a contract, in schedule order (none before
        its activation reached payment): the contract service asks before an
        amendment whether it would change a funded item."""
        return await self.store.escrows_of(contract_id)

    async def schedule(self, caller: Caller, contract_id: str) -> ScheduleView:
        """The schedule as a party (or an admin) sees it; anyone else: 404.
        Before activation there is none yet: the contract service says who the
        parties are, and they see an empty schedule."""
        escrows = await self.store.escrows_of(contract_id)
        parties = escrows[0].parties if escrows else await self.contracts.parties(contract_id)
        side = parties.side(caller) if parties is not None else None
        if side is None:
            raise ScheduleNotFound()
        charges: list[Transaction | None] = [None] * len(escrows)
        if side == "client" and caller.moves_money:
            charges = await self.store.transactions_by_id([e.transaction_id for e in escrows])
        return ScheduleView(contract_id, side, list(zip(escrows, charges, strict=True)))

    async def transactions(
        self, caller: Caller, contract_id: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Transaction], str | None]:
        """The caller's transactions, newest first: a member's company's, a
        contractor's own; an admin lists one contract's."""
        owner = caller.company_id or caller.user_id
        scope = f"transactions:{caller.role}:{owner}:{contract_id or '*'}"
        start = self.cursors.decode(cursor, scope)
        where = listing(caller, contract_id)
        if where is None:
            return [], None
        found, last = await self.store.page_transactions(
            where.index, where.key, where.value, limit, start, where.party
        )
        return found, self.cursors.encode(last, scope)
