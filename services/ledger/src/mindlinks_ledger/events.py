"""Events in and out of the ledger.

Consumes ``signature.completed`` → the activation and the payment schedule in
the journal (see ``activation.py``). Publishes, in the consumer's unit of
work: ``ledger.contract-activated`` (parties, currency, schedule, the
activation's entry seq) and one ``ledger.payment-scheduled`` per item.
"""

from __future__ import annotations

from mindlinks_fleet.events import SignatureCompleted
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.events.consumer import Handler, replay_safe
from mindlinks_kit.events.envelope import Delivered
from mindlinks_ledger.deps import LedgerDeps


def handlers(deps: LedgerDeps) -> dict[str, Handler]:
    async def on_signature_completed(event: Delivered[SignatureCompleted], uow: UnitOfWork) -> None:
        await deps.activations.on_signature_completed(event.id, event.payload, uow)

    # Its journal appends are idempotent by key (a replay finds its entries);
    # its events join the unit of work.
    return {"signature.completed": replay_safe(on_signature_completed)}
