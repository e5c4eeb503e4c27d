"""The signing deadline and its reminders (issue 16): when a contract sent for
signature must be signed by, who is reminded when, and when the client may
remind or extend. Pure rules; the contract carries the values.

- The deadline is the sending time + ``signingDays`` (default 14, 1..90).
- Reminders go to whoever must sign next (``next_signer``) on a cadence
  counted from the sending: ``reminderAfterDays`` (default 3), then every
  ``reminderEveryDays`` (default 2), never at or after the deadline. A
  scheduled one within ``REMINDER_GAP`` of the last reminder is skipped (the
  signer just heard), and the cadence goes on.
- The client may send one at once, but not within ``REMINDER_GAP`` of the
  last one (scheduled or not): ``reminder-too-soon``.
- The client may move the deadline later while it has not passed, to at
  most ``MAX_SIGNING_DAYS`` from now.

No FastAPI here, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from mindlinks_kit.errors import Conflict, InvalidInput

SIGNING_DAYS = 14
"""The default time to sign, in days from sending."""
MAX_SIGNING_DAYS = 90
REMINDER_AFTER_DAYS = 3
"""Days after sending of the first scheduled reminder."""
REMINDER_EVERY_DAYS = 2
"""Days between scheduled reminders after the first."""
MAX_REMINDER_DAYS = 30
REMINDER_GAP = timedelta(hours=24)
"""No reminder reaches a signer within this long of the previous one."""

AWAITING_SIGNATURE = ("sent_for_signature", "client_signed")
"""The statuses in which a deadline runs."""

Side = Literal["client", "contractor"]


class DeadlinePassed(Conflict):
    code = "contract-expired"
    title = "The signing deadline has passed: the contract can no longer be signed"


class NotAwaitingSignature(Conflict):
    code = "contract-not-awaiting-signature"
    title = "Only a contract sent for signature and not yet fully signed has a deadline"


class ReminderTooSoon(Conflict):
    code = "reminder-too-soon"
    title = "The signer was reminded less than 24 hours ago"


class InvalidSigningDeadline(InvalidInput):
    code = "invalid-signing-deadline"
    title = "The new deadline must be later than the current one and at most 90 days away"


@dataclass(frozen=True)
class Cadence:
    """A contract's signing terms: days to sign and the reminders' rhythm."""

    signing_days: int = SIGNING_DAYS
    reminder_after_days: int = REMINDER_AFTER_DAYS
    reminder_every_days: int = REMINDER_EVERY_DAYS

    def deadline(self, sent: datetime) -> datetime:
        return sent + timedelta(days=self.signing_days)

    def next_reminder(self, sent: datetime, deadline: datetime, after: datetime) -> datetime | None:
        """The first reminder of the cadence strictly after ``after`` and
        before ``deadline``; ``None``: no reminder is left."""
        first = sent + timedelta(days=self.reminder_after_days)
        every = timedelta(days=self.reminder_every_days)
        if first > after:
            at = first
        else:
            # Whole steps past ``after``: a late delivery never sends a burst.
            steps = (after - first) // every + 1
            at = first + steps * every
        return at if at < deadline else None


@dataclass(frozen=True)
class Signer:
    """Whoever must sign next."""

    side: Side
    user_id: str


def next_signer(status: str, *, sent_by_user_id: str, contractor_user_id: str) -> Signer | None:
    """The client side signs first: the member who sent it (their company's
    signature is what is missing, and they put the contract in motion), then
    the contractor. ``None``: nobody (not awaiting a signature)."""
    if status == "sent_for_signature":
        return Signer("client", sent_by_user_id)
    if status == "client_signed":
        return Signer("contractor", contractor_user_id)
    return None


def check_open(status: str, deadline: datetime | None, now: datetime) -> datetime:
    """The running deadline of a contract in ``status``: refused once it has
    passed (even before the timer has moved it to ``expired``) or when no
    signature is awaited."""
    if status == "expired":
        raise DeadlinePassed()
    if status not in AWAITING_SIGNATURE or deadline is None:
        raise NotAwaitingSignature(f"The contract is {status.replace('_', ' ')}")
    if now >= deadline:
        raise DeadlinePassed()
    return deadline


def check_reminder_gap(last: datetime | None, now: datetime) -> None:
    if last is not None and now - last < REMINDER_GAP:
        raise ReminderTooSoon(f"The last reminder went at {last.isoformat()}; try again later")


def scheduled_reminder_due(last: datetime | None, at: datetime) -> bool:
    """Whether a scheduled reminder at ``at`` goes out (not right after another)."""
    return last is None or at - last >= REMINDER_GAP


def check_extension(current: datetime, new: datetime, now: datetime) -> None:
    """A later deadline, in the future, at most ``MAX_SIGNING_DAYS`` from now."""
    if new <= current:
        raise InvalidSigningDeadline("The new deadline must be later than the current one")
    if new <= now:
        raise InvalidSigningDeadline("The new deadline must be in the future")
    if new > now + timedelta(days=MAX_SIGNING_DAYS):
        raise InvalidSigningDeadline(
            f"The new deadline may be at most {MAX_SIGNING_DAYS} days from now"
        )
