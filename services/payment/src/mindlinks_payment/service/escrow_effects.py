"""What happens to escrowed items without a party's request: the review
timers (reminders, the automatic release), the settle-retry timer, the
contract's termination (and an amendment's removed items, which end the same
way: ``service.amendments``), and an admin's resolution of a dispute.

Timer handlers stage their writes in the firing's unit of work (its claim
makes them happen once); Stripe calls de-duplicate by their keys. No FastAPI here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol

import structlog

from mindlinks_fleet.events import ContractTerminated, ReviewReminder
from mindlinks_kit import clock
from mindlinks_kit.dynamo import StaleVersion, UnitOfWork
from mindlinks_kit.errors import Problem
from mindlinks_kit.runtime import Publish
from mindlinks_kit.timers import Fired, Timers
from mindlinks_payment.domain import Ending, Escrow, EscrowNotFound, HistoryStep, Settlement
from mindlinks_payment.lifecycle import (
    FINAL,
    advance,
    days_left_at,
    history_step,
    next_reminder,
    split_of,
    step_of,
)
from mindlinks_payment.providers import ProviderRefused
from mindlinks_payment.service.settlement import SETTLE_RETRY, Settlements, settle_now

log = structlog.get_logger("mindlinks.escrow")
RETRY_BACKOFF = timedelta(minutes=15)
"""How long a settlement that Stripe refused or could not take waits to try again."""


class TerminationDeferred(Exception):
    """A termination that must wait for an item's payment to arrive."""


class Store(Protocol):
    async def escrow(self, escrow: str) -> Escrow | None: ...
    async def escrows_of(self, contract_id: str) -> list[Escrow]: ...
    def advance_escrow(self, uow: UnitOfWork, before: Escrow, after: Escrow) -> None: ...
    def add_step(self, uow: UnitOfWork, step: HistoryStep) -> None: ...
    async def history_of(self, escrow_id: str) -> list[HistoryStep]: ...


class EscrowEffects:
    def __init__(
        self,
        *,
        store: Store,
        settlements: Settlements,
        timers: Timers,
        publish: Publish,
        new_uow: Any,
    ) -> None:
        self.store = store
        self.settlements = settlements
        self.timers = timers
        self.publish = publish
        self.new_uow = new_uow

    # -- timers ---------------------------------------------------------------

    async def on_review_due(self, fired: Fired[Any], uow: UnitOfWork) -> None:
        """Nobody answered the submission: claim its release. The claim joins
        the firing's transaction (so a redelivered firing claims nothing) and
        sets the settle-retry timer due now, which moves the money."""
        escrow = await self.store.escrow(fired.key)
        if escrow is None or escrow.state != "submitted" or escrow.review_due_at is None:
            return  # answered, disputed or settled meanwhile: its timers were cancelled
        due = clock.parse(escrow.review_due_at)
        if due > clock.now():
            # Fired early (a clock behind the one that set it): set it again.
            self.timers.set(uow, "escrow.review-due", escrow.id, due)
            return
        settlement = Settlement(
            released_minor=escrow.amount_minor,
            refunded_minor=0,
            reason="auto-release",
            claim=f"timer:{fired.name}:{fired.token}",
            claimed_at=clock.now_iso(),
        )
        self.settlements.stage_claim(uow, escrow, settlement, ("submitted",), retry_in=timedelta(0))

    async def on_review_reminder(self, fired: Fired[Any], uow: UnitOfWork) -> None:
        escrow = await self.store.escrow(fired.key)
        if escrow is None or escrow.state != "submitted" or escrow.review_due_at is None:
            return
        due = clock.parse(escrow.review_due_at)
        at = max(fired.due, clock.now())
        if at >= due:
            return  # delivered late, past the review's end: the release says it all
        days_left = days_left_at(due, at)
        now = clock.now_iso()
        reminded = advance(escrow, now)
        self.store.advance_escrow(uow, escrow, reminded)
        self.store.add_step(
            uow,
            history_step(escrow, reminded, "reminded", by_side="system", reason=f"{days_left}d"),
        )
        following = next_reminder(due, at + timedelta(seconds=1))
        if following is not None:
            self.timers.set(uow, "escrow.review-reminder", escrow.id, following[0])
        self.publish(
            uow,
            "payment.review-reminder",
            ReviewReminder(
                **step_of(escrow).model_dump(),
                review_due_at=escrow.review_due_at,
                days_left=days_left,
            ),
        )

    async def on_settle_retry(self, fired: Fired[Any], uow: UnitOfWork) -> None:
        """Complete a claimed settlement; while Stripe cannot, try again later."""
        escrow = await self.store.escrow(fired.key)
        if escrow is None or escrow.state != "settling":
            return
        try:
            await self.settlements.complete(escrow, uow)
        except Problem as exc:
            log.warning("escrow.settle_deferred", escrow_id=escrow.id, problem=exc.code)
            self.timers.set(uow, SETTLE_RETRY, escrow.id, clock.now() + RETRY_BACKOFF)

    # -- contract.terminated --------------------------------------------------

    async def on_terminated(self, event_id: str, terminated: ContractTerminated) -> None:
        """Unpaid items are cancelled (their intents at Stripe too), funded and
        unsubmitted ones refunded; submitted items follow their review and
        disputed ones wait for the admin. Each item commits on its own, so a
        redelivery finds the done ones done and completes the rest."""
        escrows = await self.store.escrows_of(terminated.contract_id)
        paid_meanwhile = await self.end_items(
            event_id, escrows, {e.id for e in escrows}, "terminated"
        )
        if paid_meanwhile:
            # Stripe would not cancel an intent paid at this very moment: the
            # event is delivered again (with backoff) until the payment's
            # webhook has funded the item, which is then refunded.
            raise TerminationDeferred(f"paid while terminated: {', '.join(paid_meanwhile)}")

    async def end_items(
        self, event_id: str, escrows: list[Escrow], ending: set[str], reason: Ending
    ) -> list[str]:
        """End the items ``ending`` (escrow ids) of a contract whose items
        ``escrows`` were just read, as a termination does (``reason``:
        ``terminated``, ``amended``): unpaid ones cancelled, funded and
        unsubmitted ones refunded in full; submitted items follow their review,
        disputed ones wait for the admin, settled ones stay. Each commits on its
        own, and each next one sees what the previous ones became (``allSettled``
        holds). Returns the ids Stripe would not cancel: paid this very moment."""
        current = {e.id: e for e in escrows}
        paid_meanwhile = []
        for escrow in escrows:
            if escrow.id not in ending:
                continue
            others = [e for e in current.values() if e.id != escrow.id]
            if escrow.state == "pending_funding":
                cancelled = await self._cancel(escrow, others, reason)
                if cancelled is None:
                    paid_meanwhile.append(escrow.id)
                else:
                    current[escrow.id] = cancelled
            elif escrow.state in ("funded", "changes_requested") or (
                escrow.state == "settling" and _claimed_by(escrow, event_id)
            ):
                refunded = await self._refund(escrow, event_id, reason)
                if refunded is not None:
                    current[escrow.id] = refunded
            elif escrow.state not in FINAL:
                log.info(
                    "escrow.left_to_review", escrow_id=escrow.id, state=escrow.state, reason=reason
                )
        return paid_meanwhile

    async def _cancel(self, escrow: Escrow, others: list[Escrow], reason: Ending) -> Escrow | None:
        """Cancel the item's intent, then the item; ``None`` when Stripe says it was paid."""
        try:
            await self.settlements.provider.cancel_intent(
                escrow.payment_intent_id,
                idempotency_key=self.settlements.stripe_key("cancel", escrow.id),
            )
        except ProviderRefused:
            log.warning("escrow.cancel_refused", escrow_id=escrow.id)
            return None
        uow = self.new_uow()
        cancelled = self.settlements.stage_cancel(uow, escrow, reason, others)
        await uow.commit()
        return cancelled

    async def _refund(self, escrow: Escrow, event_id: str, reason: Ending) -> Escrow | None:
        """Refund the whole item; the item as refunded, or ``None`` when
        another step came first or Stripe could not take it yet."""
        settlement = Settlement(
            released_minor=0,
            refunded_minor=escrow.amount_minor,
            reason=reason,
            claim=f"event:{event_id}",
            claimed_at=clock.now_iso(),
        )
        try:
            settling = await self.settlements.claim(
                escrow, settlement, ("funded", "changes_requested")
            )
        except Problem:
            return None  # another step came first (a dispute, a release): it stands
        uow = self.new_uow()
        try:
            refunded = await self.settlements.complete(settling, uow)
            await uow.commit()
        except (Problem, StaleVersion):
            log.warning("escrow.refund_deferred", escrow_id=escrow.id)  # settle-retry completes it
            return None
        return refunded

    # -- the admin --------------------------------------------------------------

    async def operator_view(self, escrow_id: str) -> tuple[Escrow, list[HistoryStep]]:
        escrow = await self.store.escrow(escrow_id)
        if escrow is None:
            raise EscrowNotFound()
        return escrow, await self.store.history_of(escrow.id)

    async def resolve(
        self,
        escrow_id: str,
        outcome: str,
        released_minor: int | None,
        note: str,
        resolved_by: str,
        uow: UnitOfWork,
    ) -> Escrow:
        """An admin's resolution of a disputed item; repeating the same
        resolution answers the item as it settled."""
        escrow = await self.store.escrow(escrow_id)
        if escrow is None:
            raise EscrowNotFound()
        amount = escrow.amount_minor
        if outcome == "split":
            released, refunded = split_of(amount, released_minor or 0)
        else:
            released, refunded = (amount, 0) if outcome == "release" else (0, amount)
        settlement = Settlement(
            released_minor=released,
            refunded_minor=refunded,
            reason="dispute",
            claim=f"resolution:{resolved_by}:{released}",
            claimed_at=clock.now_iso(),
            by_user_id=resolved_by,
            by_side="admin",
            note=note,
        )
        done = escrow.settlement
        if escrow.state in FINAL and done is not None and done.claim == settlement.claim:
            return escrow
        return await settle_now(self.settlements, escrow, settlement, ("disputed",), uow)


def _claimed_by(escrow: Escrow, event_id: str) -> bool:
    return escrow.settlement is not None and escrow.settlement.claim == f"event:{event_id}"
