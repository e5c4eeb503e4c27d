"""How an active contract ends: a party terminates it — at once, or with the
notice its terms give, which the ``contract.termination-due`` timer ends on
the date — or payment settles its last item (``payment.item-settled`` with
``allSettled``) and it is ``completed``. A terminated contract stays
``terminated`` while payment settles what is left of it.

No FastAPI here; callers commit the unit of work (the timer's firing commits
its own, with the claim on the timer first: it ends a contract once).
"""

from __future__ import annotations

import structlog

from mindlinks_contract.domain import Contract, ContractNotFound, Reader, Termination
from mindlinks_contract.service.contracts import Contracts, parties
from mindlinks_contract.service.moves import UnexpectedEvent
from mindlinks_fleet.events import ContractTerminated, ContractTerminationScheduled, EscrowSettled
from mindlinks_kit import clock
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.timers import Timers

log = structlog.get_logger("mindlinks.contracts.endings")
TERMINATION_DUE = "contract.termination-due"
"""The timer (key: the contract id) that ends a contract when its notice runs out."""


class Endings:
    def __init__(self, contracts: Contracts, timers: Timers) -> None:
        self.contracts = contracts
        self.store = contracts.store
        self.publish = contracts.publish
        self.timers = timers

    async def terminate(
        self, reader: Reader, contract_id: str, reason: str, *, at_once: bool, uow: UnitOfWork
    ) -> Contract:
        """A party's termination of its active contract: ``terminated`` now
        (``at_once``, or no notice in its terms), else ``active`` until now +
        ``noticeDays`` with the timer set for then. A member of the client
        company (whose role the route checked) or the contractor; anyone else
        learns nothing, as for an unknown id."""
        contract = await self.store.contract(contract_id)
        side = None if contract is None else contract.side_of(reader)
        if contract is None or side is None:
            raise ContractNotFound()
        now = clock.now()
        termination = Termination(reason, reader.user_id, side, clock.iso(now))
        ends = contract.notice_end(at_once=at_once, now=now)
        if ends is None:
            return self._end(contract, termination, at=termination.requested_at, uow=uow)
        ends_at = clock.iso(ends)
        scheduled = contract.with_notice(termination, ends_at)
        self.store.replace(uow, scheduled, expected_version=contract.version)
        self.timers.set(uow, TERMINATION_DUE, contract.id, ends)
        self.publish(
            uow,
            "contract.termination-scheduled",
            ContractTerminationScheduled(
                **parties(scheduled),
                by_user_id=termination.by_user_id,
                by_side=termination.by_side,
                reason=reason,
                notice_days=contract.notice_days,
                ends_at=ends_at,
            ),
        )
        return scheduled

    async def on_termination_due(self, contract_id: str, uow: UnitOfWork) -> None:
        """The notice ran out: ``terminated`` as of the date it named. A contract
        that ended otherwise meanwhile (completed, or ended at once, which also
        cancels the timer) is left alone."""
        contract = await self.store.contract(contract_id)
        if (
            contract is None
            or contract.status != "active"
            or contract.termination is None
            or contract.termination_ends_at is None
        ):
            log.info("contract.termination_due_ignored", contract_id=contract_id)
            return
        self._end(
            contract,
            contract.termination,
            at=contract.termination_ends_at,
            uow=uow,
            notice_days=contract.notice_days,
            timer_firing=True,
        )

    def _end(
        self,
        contract: Contract,
        termination: Termination,
        *,
        at: str,
        uow: UnitOfWork,
        notice_days: int = 0,
        timer_firing: bool = False,
    ) -> Contract:
        """``terminated`` with ``contract.terminated``; ``notice_days`` is the
        notice it was given (0: at once, also when a running notice was cut short)."""
        ended = contract.terminated(termination, at=at)
        self.store.replace(uow, ended, expected_version=contract.version)
        if contract.termination_ends_at is not None and not timer_firing:
            self.timers.cancel(uow, TERMINATION_DUE, contract.id)
        self.publish(
            uow,
            "contract.terminated",
            ContractTerminated(
                **parties(ended),
                by_user_id=termination.by_user_id,
                by_side=termination.by_side,
                reason=termination.reason,
                notice_days=notice_days,
                ended_at=at,
            ),
        )
        return ended

    async def on_settled(self, event: EscrowSettled, uow: UnitOfWork) -> None:
        """``payment.item-settled`` with every item final (released, refunded,
        split or cancelled) → ``completed`` (once); a terminated contract stays
        ``terminated``. A running notice is moot then: its timer goes too."""
        if not event.all_settled:
            return
        contract = await self.store.contract(event.contract_id)
        if contract is None:
            raise UnexpectedEvent(f"unknown contract {event.contract_id}")
        if contract.status in ("completed", "terminated"):
            return
        if contract.status != "active":
            # Events can overtake each other: the activation may still be on its way.
            raise UnexpectedEvent(f"completion of a {contract.status} contract")
        at = clock.now_iso()
        completed = contract.moved(
            "completed",
            at=at,
            actor_user_id=None,
            actor_service="payment",
            completed_at=at,
            termination_ends_at=None,
        )
        self.store.replace(uow, completed, expected_version=contract.version)
        if contract.termination_ends_at is not None:
            self.timers.cancel(uow, TERMINATION_DUE, contract.id)
