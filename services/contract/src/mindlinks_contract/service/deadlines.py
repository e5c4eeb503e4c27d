"""The signing deadline of a contract sent for signature (issue 16): its
timers, the reminders to whoever must sign next (scheduled, or the client's
at once), the client's extension, and the expiry when it passes.

Two timers per contract (key: the contract id): ``contract.signing-reminder-due``
at the next reminder of the cadence and ``contract.signing-deadline-due`` at
the deadline. Sending sets them; the last signature, a decline or a void
cancels them in the same transaction (in AWS that removes their schedules
too, so nothing fires for a contract that no longer waits); a firing that
still arrives (it raced the cancel) finds the contract not awaiting a
signature and does nothing.

Each reminder is numbered and claimed in the contract's own transaction
(``remindersSent`` + 1 at the version read) with its ``contract.signing-reminder``
event: with the kit's claim on the timer, a firing delivered twice reminds once.

No FastAPI here; callers commit the unit of work (a timer's firing commits
its own, with the claim on the timer first).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import structlog

from mindlinks_contract.domain import Contract, owned_by
from mindlinks_contract.signing import (
    AWAITING_SIGNATURE,
    check_extension,
    check_open,
    check_reminder_gap,
    scheduled_reminder_due,
)
from mindlinks_contract.store import ContractStore
from mindlinks_fleet.events import ContractExpired, SigningDeadlineExtended, SigningReminder
from mindlinks_kit import clock
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.runtime import Publish
from mindlinks_kit.timers import Fired, Timers

log = structlog.get_logger("mindlinks.contracts.deadlines")
REMINDER_DUE = "contract.signing-reminder-due"
"""The timer (key: the contract id) of the next scheduled reminder."""
DEADLINE_DUE = "contract.signing-deadline-due"
"""The timer (key: the contract id) that expires a contract still unsigned."""


def _parties(contract: Contract) -> dict[str, str]:
    return {
        "contract_id": contract.id,
        "title": contract.title,
        "client_company_id": contract.client_company_id,
        "client_user_id": contract.client_user_id,
        "contractor_id": contract.contractor_id,
        "contractor_user_id": contract.contractor_user_id,
    }


def _when(text: str | None) -> datetime | None:
    return None if text is None else clock.parse(text)


class SigningTimers:
    """The two timers of a contract awaiting signatures, staged in a unit of work."""

    def __init__(self, timers: Timers) -> None:
        self.timers = timers

    def start(self, uow: UnitOfWork, contract: Contract) -> None:
        """Set (or set again: a new token, the old firings go stale) both timers."""
        assert contract.signing_deadline is not None
        self.timers.set(uow, DEADLINE_DUE, contract.id, clock.parse(contract.signing_deadline))
        self.remind_at(uow, contract)

    def remind_at(self, uow: UnitOfWork, contract: Contract) -> None:
        if contract.next_reminder_at is None:
            self.timers.cancel(uow, REMINDER_DUE, contract.id)
        else:
            self.timers.set(uow, REMINDER_DUE, contract.id, clock.parse(contract.next_reminder_at))

    def stop(self, uow: UnitOfWork, contract: Contract, *, keep: str | None = None) -> None:
        """Cancel both (``keep``: the one firing now, which its claim removes)."""
        if contract.signing_deadline is None:
            return  # never sent: no timers
        for name in (REMINDER_DUE, DEADLINE_DUE):
            if name != keep:
                self.timers.cancel(uow, name, contract.id)


def sent(contract: Contract, at: datetime) -> dict[str, Any]:
    """What sending adds to a contract: the deadline and the first reminder."""
    deadline = contract.cadence.deadline(at)
    first = contract.cadence.next_reminder(at, deadline, at)
    return {
        "sent_at": clock.iso(at),
        "signing_deadline": clock.iso(deadline),
        "next_reminder_at": None if first is None else clock.iso(first),
    }


class Deadlines:
    def __init__(self, store: ContractStore, publish: Publish, signing: SigningTimers) -> None:
        self.store = store
        self.publish = publish
        self.signing = signing

    # -- the client's ----------------------------------------------------------

    async def remind_now(
        self, company_id: str, contract_id: str, uow: UnitOfWork
    ) -> tuple[Contract, SigningReminder]:
        """A reminder at once to whoever must sign next; not within 24 hours of
        the last one. The cadence goes on as it was."""
        contract = owned_by(await self.store.contract(contract_id), company_id)
        now = clock.now()
        check_open(contract.status, _when(contract.signing_deadline), now)
        check_reminder_gap(_when(contract.last_reminder_at), now)
        return self._remind(contract, now, uow, manual=True)

    async def extend(
        self, company_id: str, user_id: str, contract_id: str, deadline: datetime, uow: UnitOfWork
    ) -> Contract:
        """A later deadline before the current one passes: the timers follow
        (the cadence goes on to the new deadline), the signer is told."""
        contract = owned_by(await self.store.contract(contract_id), company_id)
        now = clock.now()
        current = check_open(contract.status, _when(contract.signing_deadline), now)
        check_extension(current, deadline, now)
        assert contract.sent_at is not None
        # A reminder still pending stays as it is (its firing then follows the
        # cadence to the new deadline); a cadence that had run out goes on.
        following = _when(contract.next_reminder_at) or contract.cadence.next_reminder(
            clock.parse(contract.sent_at), deadline, now
        )
        extended = replace(
            contract,
            signing_deadline=clock.iso(deadline),
            next_reminder_at=None if following is None else clock.iso(following),
            updated_at=clock.iso(now),
            version=contract.version + 1,
        )
        self.store.replace(uow, extended, expected_version=contract.version)
        self.signing.start(uow, extended)
        signer = contract.signer()
        assert signer is not None  # check_open: a signature is awaited
        self.publish(
            uow,
            "contract.signing-deadline-extended",
            SigningDeadlineExtended(
                **_parties(extended),
                signing_deadline=clock.iso(deadline),
                previous_deadline=clock.iso(current),
                by_user_id=user_id,
                to_side=signer.side,
                to_user_id=signer.user_id,
            ),
        )
        return extended

    # -- the timers' ----------------------------------------------------------

    async def on_reminder_due(self, fired: Fired[Any], uow: UnitOfWork) -> None:
        """The cadence's next reminder, unless the contract no longer waits,
        the deadline is reached, or the signer heard within 24 hours; then
        the one after it."""
        contract = await self.store.contract(fired.key)
        if contract is None or contract.status not in AWAITING_SIGNATURE:
            log.info("contract.signing_reminder_ignored", contract_id=fired.key)
            return
        assert contract.sent_at is not None
        assert contract.signing_deadline is not None
        deadline = clock.parse(contract.signing_deadline)
        at = max(fired.due, clock.now())
        if at >= deadline:
            return  # delivered late, at the deadline: the expiry says it all
        following = contract.cadence.next_reminder(clock.parse(contract.sent_at), deadline, at)
        if scheduled_reminder_due(_when(contract.last_reminder_at), at):
            now = clock.now()
            contract, _ = self._remind(contract, now, uow, manual=False, following=following)
        else:
            moved_on = replace(
                contract,
                next_reminder_at=None if following is None else clock.iso(following),
                version=contract.version + 1,
            )
            self.store.replace(uow, moved_on, expected_version=contract.version)
            contract = moved_on
        if following is not None:
            self.signing.timers.set(uow, REMINDER_DUE, contract.id, following)

    async def on_deadline_due(self, fired: Fired[Any], uow: UnitOfWork) -> None:
        """The deadline passed with a signature missing: ``expired`` as of the
        deadline, both parties told. A contract signed, declined or voided
        meanwhile is left alone; a deadline moved later is waited for."""
        contract = await self.store.contract(fired.key)
        if contract is None or contract.status not in AWAITING_SIGNATURE:
            log.info("contract.signing_deadline_ignored", contract_id=fired.key)
            return
        assert contract.signing_deadline is not None
        deadline = clock.parse(contract.signing_deadline)
        if deadline > clock.now():
            self.signing.timers.set(uow, DEADLINE_DUE, contract.id, deadline)
            return
        signer = contract.signer()
        assert signer is not None
        expired = contract.moved(
            "expired",
            at=contract.signing_deadline,
            actor_user_id=None,
            reason="The signing deadline passed",
            expired_at=contract.signing_deadline,
            next_reminder_at=None,
        )
        self.store.replace(uow, expired, expected_version=contract.version)
        self.signing.stop(uow, contract, keep=DEADLINE_DUE)
        self.publish(
            uow,
            "contract.expired",
            ContractExpired(
                **_parties(expired),
                signing_deadline=contract.signing_deadline,
                expired_at=contract.signing_deadline,
                waiting_for=signer.side,
            ),
        )

    def _remind(
        self,
        contract: Contract,
        now: datetime,
        uow: UnitOfWork,
        *,
        manual: bool,
        following: datetime | None = None,
    ) -> tuple[Contract, SigningReminder]:
        """Reminder number ``remindersSent`` + 1, claimed at the version read,
        with its event. A scheduled one also moves ``nextReminderAt`` on."""
        signer = contract.signer()
        assert signer is not None
        assert contract.signing_deadline is not None
        at = clock.iso(now)
        reminded = replace(
            contract,
            reminders_sent=contract.reminders_sent + 1,
            last_reminder_at=at,
            updated_at=at,
            version=contract.version + 1,
        )
        if not manual:
            reminded = replace(
                reminded, next_reminder_at=None if following is None else clock.iso(following)
            )
        self.store.replace(uow, reminded, expected_version=contract.version)
        reminder = SigningReminder(
            **_parties(reminded),
            to_side=signer.side,
            to_user_id=signer.user_id,
            signing_deadline=contract.signing_deadline,
            reminder_no=reminded.reminders_sent,
            manual=manual,
        )
        self.publish(uow, "contract.signing-reminder", reminder)
        return reminded, reminder
