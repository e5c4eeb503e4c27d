"""Events in and out of the contract service.

Publishes (in the change's own transaction, see ``contracts.Contracts`` and
``endings.Endings``): ``contract.created`` (ContractCreated),
``contract.sent-for-signature`` (ContractParties), ``contract.voided``
(ContractVoided), ``contract.termination-scheduled``
(ContractTerminationScheduled), ``contract.terminated`` (ContractTerminated),
and issue 16's ``contract.signing-reminder`` (SigningReminder),
``contract.signing-deadline-extended`` (SigningDeadlineExtended) and
``contract.expired`` (ContractExpired), see ``service.deadlines``.

Consumes ``ledger.contract-activated`` → ``active`` (with ``activatedAt`` and
the ledger entry id) and ``payment.item-settled`` with ``allSettled`` →
``completed`` (a terminated contract stays ``terminated``). Both are
idempotent beyond the inbox (an already moved contract is left alone); an
event that does not fit the contract yet (a settlement before the
activation) raises, so it is retried with backoff and dead-lettered if it
never fits.

Handles the timer ``contract.termination-due`` (key: the contract id): a
notice ran out → ``terminated``, once (the kit's claim on the timer). And
issue 16's signing timers (``service.deadlines``):
``contract.signing-reminder-due`` → ``contract.signing-reminder`` to whoever
must sign next, and ``contract.signing-deadline-due`` → ``expired`` with
``contract.expired``.
"""

from __future__ import annotations

from typing import Any

from mindlinks_contract.deps import ContractDeps
from mindlinks_contract.service.deadlines import DEADLINE_DUE, REMINDER_DUE
from mindlinks_contract.service.endings import TERMINATION_DUE
from mindlinks_fleet.events import ContractActivated, EscrowSettled
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.events.consumer import Handler, replay_safe
from mindlinks_kit.events.envelope import Delivered
from mindlinks_kit.timers import Fired, TimerHandler


def handlers(deps: ContractDeps) -> dict[str, Handler]:
    async def on_activated(event: Delivered[ContractActivated], uow: UnitOfWork) -> None:
        await deps.contracts.on_activated(event.payload, uow)

    async def on_settled(event: Delivered[EscrowSettled], uow: UnitOfWork) -> None:
        await deps.endings.on_settled(event.payload, uow)

    # Both only read and then write through the unit of work.
    return {
        "ledger.contract-activated": replay_safe(on_activated),
        "payment.item-settled": replay_safe(on_settled),
    }


def timers(deps: ContractDeps) -> dict[str, TimerHandler]:
    async def on_termination_due(fired: Fired[Any], uow: UnitOfWork) -> None:
        await deps.endings.on_termination_due(fired.key, uow)

    return {
        TERMINATION_DUE: on_termination_due,
        REMINDER_DUE: deps.deadlines.on_reminder_due,
        DEADLINE_DUE: deps.deadlines.on_deadline_due,
    }
