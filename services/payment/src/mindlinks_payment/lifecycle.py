"""The escrow lifecycle's rules: which state allows which step, what a step
changes, when a submission's review ends and its reminders go out, and how
long after the charge a transfer may still name it (docs/lifecycle.md).

Pure: no I/O, no FastAPI; ``service.escrow`` and ``service.settlement`` apply them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from mindlinks_fleet.events import EscrowStep
from mindlinks_kit import clock
from mindlinks_kit.errors import Conflict, Forbidden, InvalidInput
from mindlinks_payment.domain import (
    Escrow,
    EscrowAlreadyReleased,
    EscrowNotFunded,
    EscrowState,
    HistoryStep,
    Settlement,
    Side,
)


class EscrowStateConflict(Conflict):
    code = "escrow-state-conflict"
    title = "The item is not in a state that allows this step"


class EscrowDisputed(Conflict):
    code = "escrow-disputed"
    title = "The item is under dispute and frozen until an admin resolves it"


class EscrowAlreadySettled(Conflict):
    code = "escrow-already-settled"
    title = "The item's money has already gone where it was settled"


class ProposalMissing(Conflict):
    code = "agreement-proposal-missing"
    title = "There is no proposal of this amount to accept"


class OwnProposal(Conflict):
    code = "agreement-own-proposal"
    title = "The other party accepts a proposal, not the one who made it"


class TooManySubmissions(Conflict):
    code = "too-many-submissions"
    title = "This item has had as many submissions as it may"


class InvalidSplit(InvalidInput):
    code = "invalid-split"
    title = "A split gives each side a part: strictly between 0 and the item's amount"


class SubmissionFileMissing(InvalidInput):
    code = "submission-file-missing"
    title = "A file named in the submission was not uploaded (or not for this item)"


class PartiesOnly(Forbidden):
    code = "parties-only"
    title = "Only the contract's parties take this step; admins resolve disputes"


LIVE: tuple[EscrowState, ...] = ("funded", "submitted", "changes_requested")
"""Paid in, not frozen, not being settled: the parties' steps apply."""
FINAL: tuple[EscrowState, ...] = ("released", "refunded", "split", "cancelled")
MAX_SUBMISSIONS = 20
REMINDERS_DAYS_LEFT = (7, 1)
DAY = timedelta(days=1)


def refuse_unless(escrow: Escrow, allowed: tuple[EscrowState, ...], step: str) -> None:
    """Raise the most precise 409 for a step the item's state does not allow."""
    state = escrow.state
    if state in allowed:
        return
    if state == "pending_funding":
        raise EscrowNotFunded()
    if state == "released":
        raise EscrowAlreadyReleased()
    if state in FINAL:
        raise EscrowAlreadySettled(f"The item is {state}")
    if state == "disputed":
        raise EscrowDisputed()
    if state == "settling":
        raise EscrowStateConflict("The item is being settled")
    raise EscrowStateConflict(f"Cannot {step} an item that is {state.replace('_', ' ')}")


def advance(escrow: Escrow, now: str, **changes: Any) -> Escrow:
    """The item after one step: its version moves on by one, as the stored one does."""
    return replace(escrow, version=escrow.version + 1, updated_at=now, **changes)


def step_id(version: int) -> str:
    """History steps sort by the escrow version their step produced."""
    return f"{version:08d}"


def history_step(
    before: Escrow | None,
    after: Escrow,
    action: str,
    *,
    by_user_id: str | None = None,
    by_side: Side | None = None,
    reason: str | None = None,
    settlement: Settlement | None = None,
    submission_no: int | None = None,
) -> HistoryStep:
    return HistoryStep(
        escrow_id=after.id,
        step_id=step_id(after.version),
        at=after.updated_at,
        action=action,
        from_state=before.state if before is not None else None,
        to_state=after.state,
        by_user_id=by_user_id,
        by_side=by_side,
        reason=reason,
        released_minor=settlement.released_minor if settlement else None,
        refunded_minor=settlement.refunded_minor if settlement else None,
        submission_no=submission_no,
    )


def step_of(escrow: Escrow) -> EscrowStep:
    """What every escrow event says of its item."""
    return EscrowStep(
        contract_id=escrow.contract_id,
        item_id=escrow.item_id,
        escrow_id=escrow.id,
        client_company_id=escrow.parties.client_company_id,
        client_user_id=escrow.parties.client_user_id,
        contractor_id=escrow.parties.contractor_id,
        contractor_user_id=escrow.parties.contractor_user_id,
        amount_minor=escrow.amount_minor,
        currency=escrow.currency,
    )


def transfer_deadline(escrow: Escrow, window_days: int) -> datetime | None:
    """The last moment a transfer may name the item's charge as its
    ``source_transaction`` (``None`` while unpaid)."""
    if escrow.funded_at is None:
        return None
    return clock.parse(escrow.funded_at) + timedelta(days=window_days)


def review_due(
    escrow: Escrow, submitted: datetime, window_days: int, margin: timedelta
) -> datetime:
    """When a submission releases on its own: ``review_days`` after it, but
    never later than ``margin`` before the transfer window closes, so an
    unanswered submission is still paid from its own charge."""
    due = submitted + timedelta(days=escrow.review_days)
    deadline = transfer_deadline(escrow, window_days)
    if deadline is not None and due > deadline - margin:
        due = max(submitted, deadline - margin)
    return due


def next_reminder(due: datetime, now: datetime) -> tuple[datetime, int] | None:
    """The next reminder still ahead: at 7 days left, then at 1 day left."""
    for days_left in REMINDERS_DAYS_LEFT:
        at = due - days_left * DAY
        if at > now:
            return at, days_left
    return None


def days_left_at(due: datetime, fired_at: datetime) -> int:
    """Which reminder a firing at ``fired_at`` is (rounded to whole days left)."""
    left = round((due - fired_at) / DAY)
    return 7 if left >= 2 else 1


def split_of(amount_minor: int, released_minor: int) -> tuple[int, int]:
    if not 0 < released_minor < amount_minor:
        raise InvalidSplit(f"releasedMinor must be between 1 and {amount_minor - 1}")
    return released_minor, amount_minor - released_minor
