"""Events in and out of the payment service.

Consumes ``ledger.contract-activated`` — the only way a schedule is created —
and opens each item once: a PaymentIntent (Stripe idempotency key derived from
the item), its escrow and its charge, created conditionally under ids derived
from the item, with ``payment.intent-created``. A redelivered event finds its
id in the inbox; another event for the same contract finds the items opened.

Consumes its own ``payment.released``: each release's invoice, issued once
(``service.invoicing``).

Publishes ``payment.intent-created``, ``payment.confirmed`` (webhooks),
``payment.released`` (releases) and ``payment.invoice-issued``.
"""

from __future__ import annotations

from mindlinks_fleet.events import ContractActivated, PaymentReleased
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.events.consumer import Handler, replay_safe
from mindlinks_kit.events.envelope import Delivered
from mindlinks_payment.deps import PaymentDeps

ITEMS_PER_COMMIT = 30
"""Three writes per item (escrow, charge, event): a DynamoDB transaction holds 100."""


def handlers(deps: PaymentDeps) -> dict[str, Handler]:
    async def on_contract_activated(event: Delivered[ContractActivated], uow: UnitOfWork) -> None:
        activated = event.payload
        pending = await deps.payments.unopened(activated)
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

    # A replay finds every item opened (or opens it under the same Stripe
    # idempotency key and conditional ids): nothing twice. An invoice's id
    # derives from its escrow item: a replay finds it issued.
    return {
        "ledger.contract-activated": replay_safe(on_contract_activated),
        "payment.released": replay_safe(on_released),
    }
