"""Events in and out of the ledger.

Consumes ``signature.completed`` → the activation and the payment schedule in
the journal (see ``activation.py``); the money's steps (``domain.STEP_EVENTS``:
an escrowed item's funding, submissions, reviews, dispute, release, refund,
settlement and invoice; a contract's early end; each amendment put in
force, ``contract.amended``) → one entry each (see
``service/escrow.py``). Publishes, in the consumer's unit of
work: ``ledger.contract-activated`` (parties, currency, schedule, the
activation's entry seq) and one ``ledger.payment-scheduled`` per item.
"""

from __future__ import annotations

from typing import Any

from mindlinks_fleet.events import SignatureCompleted
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.events.consumer import Handler, replay_safe
from mindlinks_kit.events.envelope import Delivered
from mindlinks_ledger.deps import LedgerDeps
from mindlinks_ledger.domain import STEP_EVENTS


def handlers(deps: LedgerDeps) -> dict[str, Handler]:
    async def on_signature_completed(event: Delivered[SignatureCompleted], uow: UnitOfWork) -> None:
        await deps.activations.on_signature_completed(event.id, event.payload, uow)

    async def on_step(event: Delivered[Any], uow: UnitOfWork) -> None:
        await deps.steps.record(event.name, event.id, event.payload)

    # Journal appends are idempotent by key (a replay finds its entries);
    # the activation's events join the unit of work.
    return {
        "signature.completed": replay_safe(on_signature_completed),
        **{name: replay_safe(on_step) for name in STEP_EVENTS},
    }
