"""The escrow lifecycle's rules, without I/O: which state refuses which step
and how, the review period and its reminders, Stripe's transfer window, splits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mindlinks_kit.clock import iso
from mindlinks_payment.domain import (
    Escrow,
    EscrowAlreadyReleased,
    EscrowNotFunded,
    Parties,
    Settlement,
    Transaction,
)
from mindlinks_payment.lifecycle import (
    FINAL,
    LIVE,
    EscrowAlreadySettled,
    EscrowDisputed,
    EscrowStateConflict,
    InvalidSplit,
    advance,
    days_left_at,
    history_step,
    next_reminder,
    refuse_unless,
    review_due,
    split_of,
    transfer_deadline,
)
from mindlinks_payment.service.settlement import with_status

PARTIES = Parties("c-1", "Site", "co-1", "u-client", "k-1", "u-contractor")
T0 = datetime(2030, 1, 1, tzinfo=UTC)
ESCROW = Escrow(
    id="esc_1",
    parties=PARTIES,
    item_id="c-1-0",
    position=0,
    title="Milestone",
    amount_minor=10000,
    currency="EUR",
    due_date="2030-01-01",
    state="funded",
    transaction_id="txn_1",
    payment_intent_id="pi_1",
    created_at=iso(T0),
    updated_at=iso(T0),
    funded_at=iso(T0),
    version=3,
)


def settlement(released: int, refunded: int) -> Settlement:
    return Settlement(released, refunded, "agreed", "claim", iso(T0))


@pytest.mark.parametrize(
    ("state", "problem"),
    [
        ("pending_funding", EscrowNotFunded),
        ("released", EscrowAlreadyReleased),
        ("refunded", EscrowAlreadySettled),
        ("split", EscrowAlreadySettled),
        ("cancelled", EscrowAlreadySettled),
        ("disputed", EscrowDisputed),
        ("settling", EscrowStateConflict),
        ("submitted", EscrowStateConflict),
    ],
)
def test_each_refusal_says_why(state: str, problem: type[Exception]) -> None:
    with pytest.raises(problem):
        refuse_unless(replace(ESCROW, state=state), ("funded",), "submit work on")  # type: ignore[arg-type]


def test_live_states_allow_the_parties_steps() -> None:
    for state in LIVE:
        refuse_unless(replace(ESCROW, state=state), LIVE, "dispute")
    assert set(LIVE).isdisjoint(FINAL)


def test_a_step_moves_the_version_and_its_history_sorts_by_it() -> None:
    after = advance(ESCROW, "now", state="disputed")
    assert (after.version, after.updated_at) == (4, "now")
    step = history_step(ESCROW, after, "disputed", by_side="client", reason="late")
    assert (step.step_id, step.from_state, step.to_state) == ("00000004", "funded", "disputed")
    assert history_step(None, after, "opened").from_state is None
    assert sorted(["00000010", "00000009"]) == ["00000009", "00000010"]


def test_a_settlement_names_its_outcome() -> None:
    assert settlement(10000, 0).outcome == "released"
    assert settlement(0, 10000).outcome == "refunded"
    assert settlement(6000, 4000).outcome == "split"


def test_a_review_lasts_its_days_unless_the_transfer_window_closes_first() -> None:
    margin = timedelta(days=2)
    submitted = T0 + timedelta(days=10)
    assert review_due(ESCROW, submitted, 90, margin) == submitted + timedelta(days=14)
    late = T0 + timedelta(days=80)
    assert review_due(ESCROW, late, 90, margin) == T0 + timedelta(days=88)
    past = T0 + timedelta(days=89)
    assert review_due(ESCROW, past, 90, margin) == past  # due at once: released next
    assert transfer_deadline(ESCROW, 90) == T0 + timedelta(days=90)
    assert transfer_deadline(replace(ESCROW, funded_at=None), 90) is None
    long_review = replace(ESCROW, review_days=85)
    assert review_due(long_review, submitted, 90, margin) == T0 + timedelta(days=88)


def test_reminders_at_seven_days_and_one_day_left() -> None:
    due = T0 + timedelta(days=14)
    assert next_reminder(due, T0) == (T0 + timedelta(days=7), 7)
    assert next_reminder(due, T0 + timedelta(days=8)) == (T0 + timedelta(days=13), 1)
    assert next_reminder(due, T0 + timedelta(days=13, hours=1)) is None
    short = T0 + timedelta(days=3)  # a three-day review: only the one-day reminder
    assert next_reminder(short, T0) == (T0 + timedelta(days=2), 1)
    assert days_left_at(due, T0 + timedelta(days=7)) == 7
    assert days_left_at(due, T0 + timedelta(days=13)) == 1


def test_a_split_gives_each_side_a_part() -> None:
    assert split_of(10000, 7000) == (7000, 3000)
    for bad in (0, 10000, -1, 10001):
        with pytest.raises(InvalidSplit):
            split_of(10000, bad)


def test_a_refund_record_follows_stripe_once() -> None:
    record = Transaction(
        id="txn_r",
        kind="refund",
        parties=PARTIES,
        item_id="c-1-0",
        escrow_id="esc_1",
        amount_minor=100,
        currency="EUR",
        status="processing",
        created_at="t",
        updated_at="t",
    )
    succeeded = with_status(record, "succeeded", "t2")
    assert succeeded is not None
    assert succeeded.status == "succeeded"
    assert with_status(succeeded, "succeeded", "t3") is None
    assert with_status(record, "pending", "t3") is None
    failed = with_status(succeeded, "failed", "t4")
    assert failed is not None
    assert failed.status == "failed"
    assert with_status(record, "canceled", "t5").status == "failed"  # type: ignore[union-attr]
