"""Events in and out of the contract service.

Publishes (in the change's own transaction, see ``contracts.Contracts``):
``contract.created`` (ContractCreated), ``contract.sent-for-signature``
(ContractParties), ``contract.voided`` (ContractVoided).

Consumes ``ledger.contract-activated`` → ``active`` (with ``activatedAt`` and
the ledger entry id) and ``payment.released`` with ``allReleased`` →
``completed``. Both are idempotent beyond the inbox (an already moved contract
is left alone); an event that does not fit the contract yet (a release before
the activation) raises, so it is retried with backoff and dead-lettered if it
never fits.
"""

from __future__ import annotations

from mindlinks_contract.deps import ContractDeps
from mindlinks_fleet.events import ContractActivated, PaymentReleased
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.events.consumer import Handler, replay_safe
from mindlinks_kit.events.envelope import Delivered


def handlers(deps: ContractDeps) -> dict[str, Handler]:
    async def on_activated(event: Delivered[ContractActivated], uow: UnitOfWork) -> None:
        await deps.contracts.on_activated(event.payload, uow)

    async def on_released(event: Delivered[PaymentReleased], uow: UnitOfWork) -> None:
        await deps.contracts.on_released(event.payload, uow)

    # Both only read and then write through the unit of work.
    return {
        "ledger.contract-activated": replay_safe(on_activated),
        "payment.released": replay_safe(on_released),
    }
