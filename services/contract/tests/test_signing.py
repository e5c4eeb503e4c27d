"""The signing deadline's rules (issue 16), without I/O: the cadence, the
bounds, who signs next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mindlinks_contract.signing import (
    Cadence,
    DeadlinePassed,
    InvalidSigningDeadline,
    NotAwaitingSignature,
    ReminderTooSoon,
    Signer,
    check_extension,
    check_open,
    check_reminder_gap,
    next_signer,
    scheduled_reminder_due,
)

SENT = datetime(2030, 3, 1, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)


def reminders(cadence: Cadence, sent: datetime = SENT) -> list[datetime]:
    """Every reminder of the cadence, following it as the timer does."""
    deadline = cadence.deadline(sent)
    found: list[datetime] = []
    at = cadence.next_reminder(sent, deadline, sent)
    while at is not None:
        found.append(at)
        at = cadence.next_reminder(sent, deadline, at)
    return found


def test_by_default_the_deadline_is_fourteen_days_after_sending() -> None:
    assert Cadence().deadline(SENT) == SENT + 14 * DAY
    assert Cadence(signing_days=30).deadline(SENT) == SENT + 30 * DAY


def test_by_default_reminders_come_after_three_days_then_every_two_before_the_deadline() -> None:
    assert reminders(Cadence()) == [SENT + d * DAY for d in (3, 5, 7, 9, 11, 13)]


def test_no_reminder_falls_at_the_deadline() -> None:
    # 3, 5, 7: the one on day 7 would be the deadline itself.
    assert reminders(Cadence(signing_days=7)) == [SENT + 3 * DAY, SENT + 5 * DAY]
    assert reminders(Cadence(signing_days=3)) == []
    assert reminders(Cadence(signing_days=2)) == []


def test_a_cadence_of_its_own() -> None:
    cadence = Cadence(signing_days=10, reminder_after_days=1, reminder_every_days=4)
    assert reminders(cadence) == [SENT + 1 * DAY, SENT + 5 * DAY, SENT + 9 * DAY]


def test_a_late_firing_skips_to_the_next_slot_instead_of_a_burst() -> None:
    cadence = Cadence()
    deadline = cadence.deadline(SENT)
    # Delivered on day 8.5: the next one is day 9, not 5 and 7 at once.
    assert cadence.next_reminder(SENT, deadline, SENT + 8.5 * DAY) == SENT + 9 * DAY
    assert cadence.next_reminder(SENT, deadline, SENT + 9 * DAY) == SENT + 11 * DAY
    assert cadence.next_reminder(SENT, deadline, SENT + 13 * DAY) is None


def test_a_later_deadline_lets_the_cadence_go_on() -> None:
    cadence = Cadence()
    later = SENT + 20 * DAY
    assert cadence.next_reminder(SENT, later, SENT + 13 * DAY) == SENT + 15 * DAY


def test_the_member_who_sent_it_then_the_contractor_signs_next() -> None:
    who = {"sent_by_user_id": "u-sender", "contractor_user_id": "u-contractor"}
    assert next_signer("sent_for_signature", **who) == Signer("client", "u-sender")
    assert next_signer("client_signed", **who) == Signer("contractor", "u-contractor")
    for status in ("draft", "fully_signed", "active", "declined", "voided", "expired"):
        assert next_signer(status, **who) is None


def test_a_deadline_is_open_only_while_a_signature_is_awaited_and_before_it() -> None:
    deadline = SENT + 14 * DAY
    assert check_open("sent_for_signature", deadline, SENT) == deadline
    assert check_open("client_signed", deadline, deadline - timedelta(seconds=1)) == deadline
    with pytest.raises(DeadlinePassed):
        check_open("client_signed", deadline, deadline)  # passed, the timer not yet fired
    with pytest.raises(DeadlinePassed):
        check_open("expired", deadline, SENT)
    for status in ("draft", "fully_signed", "declined", "voided"):
        with pytest.raises(NotAwaitingSignature):
            check_open(status, deadline if status != "draft" else None, SENT)


def test_a_reminder_within_24_hours_of_the_last_is_too_soon() -> None:
    check_reminder_gap(None, SENT)
    check_reminder_gap(SENT, SENT + DAY)
    with pytest.raises(ReminderTooSoon) as refused:
        check_reminder_gap(SENT, SENT + DAY - timedelta(seconds=1))
    assert refused.value.code == "reminder-too-soon"
    assert scheduled_reminder_due(None, SENT)
    assert not scheduled_reminder_due(SENT, SENT + timedelta(hours=23))
    assert scheduled_reminder_due(SENT, SENT + DAY)


@pytest.mark.parametrize(
    ("new", "ok"),
    [
        (SENT + 14 * DAY + timedelta(seconds=1), True),
        (SENT + 90 * DAY, True),  # at most 90 days from now
        (SENT + 14 * DAY, False),  # not later
        (SENT + 10 * DAY, False),  # earlier
        (SENT + 90 * DAY + timedelta(seconds=1), False),  # too far
    ],
)
def test_an_extension_is_later_in_the_future_and_bounded(new: datetime, ok: bool) -> None:
    current = SENT + 14 * DAY
    if ok:
        check_extension(current, new, SENT)
    else:
        with pytest.raises(InvalidSigningDeadline):
            check_extension(current, new, SENT)


def test_an_extension_is_in_the_future() -> None:
    # A deadline that had already passed is refused by check_open before this;
    # the rule holds on its own too.
    with pytest.raises(InvalidSigningDeadline):
        check_extension(SENT - DAY, SENT - timedelta(hours=1), SENT)
