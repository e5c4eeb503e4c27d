"""The review period on the fleet clock: reminders at 7 days and 1 day left,
the automatic release when nobody answered — once, even when its firing is
delivered twice, never while disputed — and the settle-retry timer that
completes a settlement Stripe could not take at first."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev.harness import Running
from mindlinks_dev.pytest_plugin import FleetClock
from mindlinks_kit.clock import iso
from mindlinks_kit.dynamo import values
from mindlinks_kit.timers import Firing, Timers
from mindlinks_payment.providers import ProviderUnavailable

if TYPE_CHECKING:
    from conftest import Escrows, Payments


@pytest.fixture(autouse=True)
async def back_to_real_time(fleet: Running) -> AsyncIterator[None]:
    """Records written while the fleet clock was ahead are dated in the
    future; put them back on the real clock after each test, so that other
    modules' "newest first" lists across tenants are not led by them."""
    yield
    transactions = fleet.runtime("payment").table("transactions")
    now = datetime.now(UTC)
    ahead = iso(now + timedelta(minutes=1))
    start: Any = None
    while True:
        items, start = await transactions.scan(
            filter_expression="createdAt > :ahead",
            values=values(ahead=ahead),
            limit=500,
            start=start,
        )
        for item in items:
            await transactions.update(
                {"id": item["id"]},
                "SET createdAt = :now, updatedAt = :now",
                values=values(now=iso(now)),
            )
        if start is None:
            return


def timers(fleet: Running) -> Timers:
    found = fleet.runtime("payment").timers
    assert found is not None
    return found


async def test_silence_is_reminded_then_released(
    fleet: Running, payments: Payments, escrows: Escrows, fleet_clock: FleetClock
) -> None:
    contract, (escrow_id,) = await escrows.funded((10000,))
    await escrows.submit(escrow_id, contract)
    await fleet.deliver()
    assert await payments.published("payment.review-reminder", contract.id) == []

    fleet_clock.advance("7d")
    fleet_clock.advance(60)
    await fleet.deliver()
    reminders = await payments.published("payment.review-reminder", contract.id)
    assert [r["daysLeft"] for r in reminders] == [7]
    fleet_clock.advance("6d")
    await fleet.deliver()
    reminders = await payments.published("payment.review-reminder", contract.id)
    assert [r["daysLeft"] for r in reminders] == [7, 1]
    assert (await escrows.detail(escrow_id, contract.client))["state"] == "submitted"

    fleet_clock.advance("1d")
    await fleet.deliver()
    detail = await escrows.detail(escrow_id, contract.client)
    assert detail["state"] == "released"
    assert detail["settlement"]["reason"] == "auto-release"
    assert detail["settlement"]["byUserId"] is None
    assert [h["action"] for h in detail["history"]][-4:] == [
        "reminded",
        "reminded",
        "settling",
        "released",
    ]
    (released,) = await payments.published("payment.released", contract.id)
    assert released["reason"] == "auto-release"
    assert (await escrows.stripe_object("tr", escrow_id))["amount"] == 10000
    fleet_clock.advance("30d")
    await fleet.deliver()
    assert len(await payments.published("payment.released", contract.id)) == 1


async def test_a_redelivered_auto_release_releases_once(
    fleet: Running, payments: Payments, escrows: Escrows, fleet_clock: FleetClock
) -> None:
    contract, (escrow_id,) = await escrows.funded((10000,))
    await escrows.submit(escrow_id, contract)
    pending = await timers(fleet).pending("escrow.review-due", escrow_id)
    assert pending is not None
    firing = Firing("escrow.review-due", escrow_id, pending["token"], pending["dueAt"])
    fleet_clock.advance("14d")
    fleet_clock.advance(60)
    # The scheduler and the sweep (or SQS twice) deliver the same firing at once.
    fired = await asyncio.gather(*(timers(fleet).fire(firing) for _ in range(3)))
    assert sorted(fired) == [False, False, True]
    assert await timers(fleet).fire(firing) is False
    await fleet.deliver()
    assert (await escrows.detail(escrow_id, contract.client))["state"] == "released"
    assert len(await payments.published("payment.released", contract.id)) == 1
    assert len(await payments.published("payment.item-settled", contract.id)) == 1


async def test_no_release_while_disputed_or_after_changes_were_asked(
    fleet: Running, escrows: Escrows, fleet_clock: FleetClock
) -> None:
    contract, (disputed, asked) = await escrows.funded((10000, 20000))
    for escrow_id in (disputed, asked):
        await escrows.submit(escrow_id, contract)
    await escrows.post(disputed, "disputes", contract.client, {"reason": "Not what we agreed"})
    await escrows.post(asked, "changes-requests", contract.client, {"reason": "More tests"})
    fleet_clock.advance("20d")
    await fleet.deliver()
    assert (await escrows.detail(disputed, contract.client))["state"] == "disputed"
    assert (await escrows.detail(asked, contract.client))["state"] == "changes_requested"


async def test_a_review_never_outlasts_the_transfer_window(
    fleet: Running, escrows: Escrows, fleet_clock: FleetClock
) -> None:
    """Submitted 85 days after the charge with 14 days of review: it would end
    past Stripe's window (90 days), so it ends two days before the window does."""
    contract, (escrow_id,) = await escrows.funded((10000,))
    funded_at = (await escrows.detail(escrow_id, contract.client))["fundedAt"]
    fleet_clock.advance("85d")
    submitted = await escrows.submit(escrow_id, contract)
    assert submitted["state"] == "submitted"
    due = (await escrows.detail(escrow_id, contract.client))["reviewDueAt"]

    def at(value: str) -> datetime:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))

    assert at(due) - at(funded_at) == timedelta(days=88)
    fleet_clock.advance("3d")
    fleet_clock.advance(60)
    await fleet.deliver()
    assert (await escrows.detail(escrow_id, contract.client))["state"] == "released"
    transfer = await escrows.stripe_object("tr", escrow_id)
    assert transfer is not None
    assert transfer["source_transaction"] is not None


async def test_a_settlement_stripe_could_not_take_is_completed_by_its_retry(
    fleet: Running,
    payments: Payments,
    escrows: Escrows,
    fleet_clock: FleetClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    contract, (escrow_id,) = await escrows.funded((10000,))
    local = fleet.deps("payment").local_stripe
    real = local.create_transfer

    async def outage(**_: Any) -> Any:
        raise ProviderUnavailable("Stripe is unavailable (status 500)")

    monkeypatch.setattr(local, "create_transfer", outage)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    failed = await escrows.post(escrow_id, "approve", {**contract.client, **key})
    payments.problem(failed, 503, "payment-provider-unavailable")
    assert (await escrows.detail(escrow_id, contract.client))["state"] == "settling"
    # Another request may not take over the claim.
    other = await escrows.post(
        escrow_id, "approve", {**contract.client, "Idempotency-Key": uuid.uuid4().hex}
    )
    payments.problem(other, 409, "escrow-state-conflict")
    # Stripe still down when the retry timer fires: it tries again later.
    fleet_clock.advance("3m")
    await fleet.deliver()
    assert (await escrows.detail(escrow_id, contract.client))["state"] == "settling"
    monkeypatch.setattr(local, "create_transfer", real)
    fleet_clock.advance("16m")
    await fleet.deliver()
    assert (await escrows.detail(escrow_id, contract.client))["state"] == "released"
    # The request's own retry now answers the settled item, without moving money again.
    retried = await escrows.post(escrow_id, "approve", {**contract.client, **key})
    payments.problem(retried, 409, "escrow-already-released")
    assert len(await payments.published("payment.released", contract.id)) == 1


async def test_the_claims_own_retry_completes_it(
    fleet: Running, payments: Payments, escrows: Escrows, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract, (escrow_id,) = await escrows.funded((10000,))
    local = fleet.deps("payment").local_stripe
    real = local.create_transfer
    calls = 0

    async def once_down(**params: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ProviderUnavailable("Stripe is unavailable (APIConnectionError)")
        return await real(**params)

    monkeypatch.setattr(local, "create_transfer", once_down)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    payments.problem(await escrows.post(escrow_id, "approve", {**contract.client, **key}), 503)
    retried = await escrows.post(escrow_id, "approve", {**contract.client, **key})
    assert retried.status_code == 200, retried.text
    assert retried.json()["state"] == "released"
    assert len(await payments.published("payment.released", contract.id)) == 1


async def test_a_retry_a_day_later_finds_the_transfer_stripe_made(
    fleet: Running,
    payments: Payments,
    escrows: Escrows,
    fleet_clock: FleetClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stripe made the transfer but its answer was lost, and the retry comes
    after Stripe forgot the idempotency key: the retry finds the transfer
    instead of making a second one."""
    contract, (escrow_id,) = await escrows.funded((10000,))
    local = fleet.deps("payment").local_stripe
    real = local.create_transfer

    async def made_but_lost(**params: Any) -> Any:
        await real(**params)
        raise ProviderUnavailable("Stripe is unavailable (APIConnectionError)")

    monkeypatch.setattr(local, "create_transfer", made_but_lost)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    payments.problem(await escrows.post(escrow_id, "approve", {**contract.client, **key}), 503)

    async def never(**_: Any) -> Any:
        raise AssertionError("a second transfer was asked for")

    monkeypatch.setattr(local, "create_transfer", never)
    fleet_clock.advance("25h")
    await fleet.deliver()
    detail = await escrows.detail(escrow_id, contract.client)
    assert detail["state"] == "released"
    assert detail["transferId"] == (await escrows.stripe_object("tr", escrow_id))["id"]
    assert len(await payments.published("payment.released", contract.id)) == 1


async def test_the_contracts_own_review_period_is_kept(
    fleet: Running, payments: Payments, escrows: Escrows, fleet_clock: FleetClock
) -> None:
    """Three days of review (from ``ContractActivated.reviewDays``): only the
    one-day reminder, then the release."""
    contract, (escrow_id,) = await escrows.funded((10000,), review_days=3)
    assert (await escrows.detail(escrow_id, contract.client))["reviewDays"] == 3
    await escrows.submit(escrow_id, contract)
    fleet_clock.advance("2d")
    fleet_clock.advance(60)
    await fleet.deliver()
    reminders = await payments.published("payment.review-reminder", contract.id)
    assert [r["daysLeft"] for r in reminders] == [1]
    assert (await escrows.detail(escrow_id, contract.client))["state"] == "submitted"
    fleet_clock.advance("1d")
    await fleet.deliver()
    assert (await escrows.detail(escrow_id, contract.client))["state"] == "released"


async def test_a_reminder_delivered_past_the_review_says_nothing(
    fleet: Running, payments: Payments, escrows: Escrows, fleet_clock: FleetClock
) -> None:
    """The clock jumps past the whole review: no "7 days left" after the end,
    only the release."""
    contract, (escrow_id,) = await escrows.funded((10000,))
    await escrows.submit(escrow_id, contract)
    fleet_clock.advance("15d")
    await fleet.deliver()
    assert (await escrows.detail(escrow_id, contract.client))["state"] == "released"
    assert await payments.published("payment.review-reminder", contract.id) == []
