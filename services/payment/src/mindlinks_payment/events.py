"""Events in and out of the payment service.

Consumes ``ledger.contract-activated`` — the only way a schedule is created —
and opens each item once: a PaymentIntent (Stripe idempotency key derived from
the item), its escrow and its charge, created conditionally under ids derived
from the item, with ``payment.intent-created``. A redelivered event finds its
id in the inbox; another event for the same contract finds the items opened.

Consumes ``contract.terminated``: unpaid items are cancelled, funded and
unsubmitted ones refunded (``service.escrow_effects``); ``contract.amended``:
added items opened as at activation, removed ones ended as by a termination
with reason ``amended`` (``service.amendments``); and its own
``payment.released``: each release's invoice, issued once (``service.invoicing``).

Publishes ``payment.intent-created``, ``payment.confirmed`` (webhooks), the
escrow steps' ``payment.work-submitted``, ``payment.changes-requested``,
``payment.review-reminder``, ``payment.disputed``, ``payment.released``,
``payment.refunded`` and ``payment.item-settled``, and ``payment.invoice-issued``.

Handles its timers ``escrow.review-due``, ``escrow.review-reminder`` and
``escrow.settle-retry`` (``timers``).
"""

from __future__ import annotations

from mindlinks_fleet.events import (
    ContractActivated,
    ContractAmended,
    ContractTerminated,
    PaymentReleased,
)
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.events.consumer import Handler, replay_safe
from mindlinks_kit.events.envelope import Delivered
from mindlinks_kit.timers import TimerHandler
from mindlinks_payment.deps import PaymentDeps
from mindlinks_payment.service.payments import ITEMS_PER_COMMIT


def handlers(deps: PaymentDeps) -> dict[str, Handler]:
    async def on_contract_activated(event: Delivered[ContractActivated], uow: UnitOfWork) -> None:
        activated = event.payload
        pending = await deps.payments.unopened(
            activated.contract_id, list(enumerate(activated.schedule))
        )
        # Long schedules commit in chunks; each item is idempotent on its own,
        # so a failure part-way is completed by the redelivery.
        while len(pending) > ITEMS_PER_COMMIT:
            chunk, pending = pending[:ITEMS_PER_COMMIT], pending[ITEMS_PER_COMMIT:]
            own = deps.runtime.uow()
            for position, item in chunk:
                await deps.payments.open_item(activated, position, item, own)
            await own.commit()
        for position, item in pending:
            await deps.payments.open_item(activated, position, item, uow)

    async def on_released(event: Delivered[PaymentReleased], _: UnitOfWork) -> None:
        await deps.invoicing.issue(event.payload)

    async def on_contract_terminated(event: Delivered[ContractTerminated], uow: UnitOfWork) -> None:
        await deps.effects.on_terminated(event.id, event.payload)

    async def on_contract_amended(event: Delivered[ContractAmended], uow: UnitOfWork) -> None:
        await deps.amendments.on_amended(event.id, event.payload)

    # A replay finds every item opened (or opens it under the same Stripe
    # idempotency key and conditional ids): nothing twice. A replayed
    # termination finds the items it settled settled (each commits its own);
    # so does a replayed amendment, and its added items opened.
    # An invoice's id derives from its escrow item: a replay finds it issued.
    return {
        "ledger.contract-activated": replay_safe(on_contract_activated),
        "contract.terminated": replay_safe(on_contract_terminated),
        "contract.amended": replay_safe(on_contract_amended),
        "payment.released": replay_safe(on_released),
    }


def timers(deps: PaymentDeps) -> dict[str, TimerHandler]:
    return {
        "escrow.review-due": deps.effects.on_review_due,
        "escrow.review-reminder": deps.effects.on_review_reminder,
        "escrow.settle-retry": deps.effects.on_settle_retry,
    }
