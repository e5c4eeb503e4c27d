"""Settling an escrowed item, in two phases, so that its money moves at most
once whatever is retried, redelivered or raced:

1. ``stage_claim``: one conditional write (the version read) moves a live or
   disputed item to ``settling`` with its settlement fixed, cancels its review
   timers and sets ``escrow.settle-retry`` — committed before Stripe is called.
   Of two claims on one item only one commits; the other is refused (409).
2. ``complete``: the transfer and/or the refund at Stripe under keys derived
   from the item, then the final state, the transaction records, the history
   step and the events, staged in the caller's unit of work. A crash or an
   outage between the phases leaves ``settling``; the claim's own retry or
   the settle-retry timer completes it with the same keys.

No FastAPI here; callers commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Protocol

import structlog

from mindlinks_fleet.events import EscrowSettled, PaymentRefunded, PaymentReleased
from mindlinks_kit import clock
from mindlinks_kit.dynamo import StaleVersion, UnitOfWork
from mindlinks_kit.runtime import Publish
from mindlinks_kit.timers import Timers
from mindlinks_payment.domain import (
    Ending,
    Escrow,
    EscrowState,
    HistoryStep,
    Settlement,
    Transaction,
    refund_id_for,
    transfer_id_for,
)
from mindlinks_payment.lifecycle import (
    FINAL,
    EscrowStateConflict,
    advance,
    history_step,
    refuse_unless,
    step_of,
    transfer_deadline,
)
from mindlinks_payment.providers import PaymentsProvider, Refund, Transfer

log = structlog.get_logger("mindlinks.settlement")
REVIEW_TIMERS = ("escrow.review-due", "escrow.review-reminder")
SETTLE_RETRY = "escrow.settle-retry"
RETRY_AFTER = timedelta(minutes=2)
"""A claim's own request normally completes well before this."""
LOOK_FIRST_AFTER = timedelta(hours=1)
"""A settlement claimed this long ago asks Stripe for what an earlier attempt
made before making it: Stripe keeps idempotency keys for 24 hours only."""
REFUND_STATUS = {"succeeded": "succeeded", "failed": "failed", "canceled": "failed"}


class Store(Protocol):
    async def escrow(self, escrow: str) -> Escrow | None: ...
    async def escrows_of(self, contract_id: str) -> list[Escrow]: ...
    def advance_escrow(self, uow: UnitOfWork, before: Escrow, after: Escrow) -> None: ...
    def guard_unsettled(self, uow: UnitOfWork, escrow: Escrow) -> None: ...
    def add_step(self, uow: UnitOfWork, step: HistoryStep) -> None: ...
    def create_transaction(self, uow: UnitOfWork, transaction: Transaction) -> None: ...


class PayoutDestinations(Protocol):
    async def ready_destination(self, contractor_id: str) -> str: ...


class Settlements:
    def __init__(
        self,
        *,
        store: Store,
        provider: PaymentsProvider,
        destinations: PayoutDestinations,
        timers: Timers,
        publish: Publish,
        stripe_key: Callable[[str, str], str],
        new_uow: Callable[[], UnitOfWork],
        transfer_window_days: int,
    ) -> None:
        self.store = store
        self.provider = provider
        self.destinations = destinations
        self.timers = timers
        self.publish = publish
        self.stripe_key = stripe_key
        self.new_uow = new_uow
        self.transfer_window_days = transfer_window_days

    # -- phase 1 --------------------------------------------------------------

    def stage_claim(
        self,
        uow: UnitOfWork,
        escrow: Escrow,
        settlement: Settlement,
        allowed: tuple[EscrowState, ...],
        *,
        retry_in: timedelta = RETRY_AFTER,
    ) -> Escrow:
        """Stage the claim (the caller commits it before any Stripe call)."""
        refuse_unless(escrow, allowed, "settle")
        settling = advance(
            escrow,
            settlement.claimed_at,
            state="settling",
            settlement=settlement,
            review_due_at=None,
            proposal=None,
        )
        self.store.advance_escrow(uow, escrow, settling)
        self.store.add_step(
            uow,
            history_step(
                escrow,
                settling,
                "settling",
                by_user_id=settlement.by_user_id,
                by_side=settlement.by_side,
                reason=settlement.note or settlement.reason,
                settlement=settlement,
            ),
        )
        for name in REVIEW_TIMERS:
            self.timers.cancel(uow, name, escrow.id)
        self.timers.set(uow, SETTLE_RETRY, escrow.id, clock.now() + retry_in)
        return settling

    async def claim(
        self, escrow: Escrow, settlement: Settlement, allowed: tuple[EscrowState, ...]
    ) -> Escrow:
        """Claim and commit now; a claim that lost a race is refused with 409,
        while the same claim retried (its item already settling for it) goes on."""
        if escrow.state == "settling" and _same_claim(escrow.settlement, settlement):
            return escrow
        uow = self.new_uow()
        settling = self.stage_claim(uow, escrow, settlement, allowed)
        try:
            await uow.commit()
        except StaleVersion:
            raise EscrowStateConflict("Another step on this item came first; reload it") from None
        return settling

    # -- phase 2 --------------------------------------------------------------

    async def complete(self, escrow: Escrow, uow: UnitOfWork) -> Escrow:
        """Move the money of a ``settling`` item and stage its final state."""
        settlement = escrow.settlement
        if escrow.state != "settling" or settlement is None:
            raise EscrowStateConflict("The item is not being settled")
        transfer = await self._transfer(escrow, settlement) if settlement.released_minor else None
        refund = await self._refund(escrow, settlement) if settlement.refunded_minor else None
        now = clock.now_iso()
        final = advance(
            escrow,
            now,
            state=settlement.outcome,
            transfer_id=transfer.id if transfer else None,
            refund_id=refund.id if refund else None,
            released_at=now if transfer else None,
            settled_at=now,
        )
        self.store.advance_escrow(uow, escrow, final)
        self.store.add_step(
            uow,
            history_step(
                escrow,
                final,
                settlement.outcome,
                by_user_id=settlement.by_user_id,
                by_side=settlement.by_side,
                reason=settlement.note or settlement.reason,
                settlement=settlement,
            ),
        )
        self.timers.cancel(uow, SETTLE_RETRY, escrow.id)
        if transfer is not None:
            self.store.create_transaction(uow, _transfer_record(final, transfer, now))
        if refund is not None:
            self.store.create_transaction(uow, _refund_record(final, refund, now))
        others = [e for e in await self.store.escrows_of(escrow.contract_id) if e.id != escrow.id]
        for other in others:
            if other.state not in FINAL:
                self.store.guard_unsettled(uow, other)
        self._publish_final(uow, final, settlement, others)
        log.info(
            "escrow.settled",
            escrow_id=escrow.id,
            outcome=settlement.outcome,
            released_minor=settlement.released_minor,
            refunded_minor=settlement.refunded_minor,
        )
        return final

    def stage_cancel(
        self, uow: UnitOfWork, escrow: Escrow, reason: Ending, others: list[Escrow]
    ) -> Escrow:
        """An unpaid item ends (its intent cancelled at Stripe already)."""
        now = clock.now_iso()
        cancelled = advance(escrow, now, state="cancelled", settled_at=now)
        self.store.advance_escrow(uow, escrow, cancelled)
        self.store.add_step(
            uow, history_step(escrow, cancelled, "cancelled", by_side="system", reason=reason)
        )
        for other in others:
            if other.state not in FINAL:
                self.store.guard_unsettled(uow, other)
        self.publish(
            uow,
            "payment.item-settled",
            EscrowSettled(
                **step_of(cancelled).model_dump(),
                outcome="cancelled",
                released_minor=0,
                refunded_minor=0,
                reason=reason,
                by_user_id=None,
                all_settled=all(o.state in FINAL for o in others),
            ),
        )
        return cancelled

    def _late(self, settlement: Settlement) -> bool:
        return clock.now() - clock.parse(settlement.claimed_at) > LOOK_FIRST_AFTER

    async def _transfer(self, escrow: Escrow, settlement: Settlement) -> Transfer:
        if self._late(settlement):
            made = await self.provider.find_transfer(
                transfer_group=escrow.contract_id, escrow_id=escrow.id
            )
            if made is not None:
                return made
        destination = await self.destinations.ready_destination(escrow.parties.contractor_id)
        deadline = transfer_deadline(escrow, self.transfer_window_days)
        # Past the window the charge's funds have long been available in the
        # platform balance: the transfer is paid from it without naming the charge.
        source = escrow.charge_id if deadline is not None and clock.now() < deadline else None
        return await self.provider.create_transfer(
            amount_minor=settlement.released_minor,
            currency=escrow.currency,
            destination=destination,
            transfer_group=escrow.contract_id,
            source_transaction=source,
            metadata=_metadata(escrow),
            idempotency_key=self.stripe_key("transfer", escrow.id),
        )

    async def _refund(self, escrow: Escrow, settlement: Settlement) -> Refund:
        if self._late(settlement):
            made = await self.provider.find_refund(
                payment_intent=escrow.payment_intent_id, escrow_id=escrow.id
            )
            if made is not None:
                return made
        return await self.provider.create_refund(
            payment_intent=escrow.payment_intent_id,
            amount_minor=settlement.refunded_minor,
            metadata={**_metadata(escrow), "transactionId": refund_id_for(escrow.id)},
            idempotency_key=self.stripe_key("refund", escrow.id),
        )

    def _publish_final(
        self, uow: UnitOfWork, final: Escrow, settlement: Settlement, others: Sequence[Escrow]
    ) -> None:
        step = step_of(final).model_dump()
        if final.transfer_id is not None:
            self.publish(
                uow,
                "payment.released",
                PaymentReleased(
                    contract_id=final.contract_id,
                    item_id=final.item_id,
                    escrow_id=final.id,
                    transfer_id=final.transfer_id,
                    client_user_id=final.parties.client_user_id,
                    contractor_user_id=final.parties.contractor_user_id,
                    contractor_id=final.parties.contractor_id,
                    amount_minor=settlement.released_minor,
                    currency=final.currency,
                    all_released=all(o.state == "released" for o in others),
                    reason=settlement.reason,
                    client_company_id=final.parties.client_company_id,
                ),
            )
        if final.refund_id is not None:
            self.publish(
                uow,
                "payment.refunded",
                PaymentRefunded(
                    **step,
                    refund_id=final.refund_id,
                    refunded_minor=settlement.refunded_minor,
                    reason=settlement.reason,
                ),
            )
        self.publish(
            uow,
            "payment.item-settled",
            EscrowSettled(
                **step,
                outcome=settlement.outcome,
                released_minor=settlement.released_minor,
                refunded_minor=settlement.refunded_minor,
                reason=settlement.reason,
                by_user_id=settlement.by_user_id,
                all_settled=all(o.state in FINAL for o in others),
            ),
        )


async def settle_now(
    settlements: Settlements,
    escrow: Escrow,
    settlement: Settlement,
    allowed: tuple[EscrowState, ...],
    uow: UnitOfWork,
) -> Escrow:
    """Both phases for a request: the claim committed now, the rest in ``uow``."""
    settling = await settlements.claim(escrow, settlement, allowed)
    return await settlements.complete(settling, uow)


def _same_claim(current: Settlement | None, wanted: Settlement) -> bool:
    return current is not None and (
        current.claim,
        current.released_minor,
        current.refunded_minor,
    ) == (wanted.claim, wanted.released_minor, wanted.refunded_minor)


def _metadata(escrow: Escrow) -> dict[str, str]:
    return {"contractId": escrow.contract_id, "itemId": escrow.item_id, "escrowId": escrow.id}


def _transfer_record(escrow: Escrow, transfer: Transfer, now: str) -> Transaction:
    return Transaction(
        id=transfer_id_for(escrow.id),
        kind="transfer",
        parties=escrow.parties,
        item_id=escrow.item_id,
        escrow_id=escrow.id,
        amount_minor=transfer.amount_minor,
        currency=escrow.currency,
        status="succeeded",
        created_at=now,
        updated_at=now,
        transfer_id=transfer.id,
        destination=transfer.destination,
    )


def _refund_record(escrow: Escrow, refund: Refund, now: str) -> Transaction:
    return Transaction(
        id=refund_id_for(escrow.id),
        kind="refund",
        parties=escrow.parties,
        item_id=escrow.item_id,
        escrow_id=escrow.id,
        amount_minor=refund.amount_minor,
        currency=escrow.currency,
        status="succeeded" if refund.status == "succeeded" else "processing",
        created_at=now,
        updated_at=now,
        payment_intent_id=escrow.payment_intent_id,
        charge_id=escrow.charge_id,
        refund_id=refund.id,
    )


def with_status(record: Transaction, stripe_status: str, now: str) -> Transaction | None:
    """A refund record after Stripe's report, or ``None`` when it says nothing new."""
    status = REFUND_STATUS.get(stripe_status)
    if status is None or status == record.status:
        return None
    return replace(record, status=status, updated_at=now)  # type: ignore[arg-type]
