"""``contract.terminated`` (the contract service's): unpaid items are
cancelled with their intents, funded and unsubmitted ones refunded, submitted
ones left to their review, disputed ones to the admin — once, however often
the event is delivered."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from mindlinks_dev.harness import Running
from mindlinks_payment.service.escrow_effects import TerminationDeferred

if TYPE_CHECKING:
    from conftest import Escrows, Payments


async def test_a_termination_settles_each_item_by_its_state(
    fleet: Running, payments: Payments, escrows: Escrows
) -> None:
    amounts = (1000, 2000, 3000, 4000, 5000)
    contract = await payments.activate(amounts)
    items = (await payments.schedule(contract, contract.client))["items"]
    unpaid, funded, asked, submitted, disputed = [i["escrowId"] for i in items]
    for index in range(1, 5):
        await payments.fund(contract, index)
    await payments.payout_ready(contract)
    for escrow_id in (asked, submitted, disputed):
        await escrows.submit(escrow_id, contract)
    await escrows.post(asked, "changes-requests", contract.client, {"reason": "Again"})
    await escrows.post(disputed, "disputes", contract.contractor, {"reason": "Unpaid"})

    event = escrows.terminated(contract)
    await escrows.event("contract.terminated", "contract", event)
    await fleet.deliver()
    states = {
        e: (await escrows.detail(e, contract.client))["state"]
        for e in (unpaid, funded, asked, submitted, disputed)
    }
    assert states == {
        unpaid: "cancelled",
        funded: "refunded",
        asked: "refunded",
        submitted: "submitted",
        disputed: "disputed",
    }
    local = fleet.deps("payment").local_stripe
    intent = await local.objects.get(items[0]["paymentIntentId"])
    assert intent["status"] == "canceled"
    assert (await escrows.stripe_object("re", funded))["amount"] == 2000
    assert (await escrows.stripe_object("re", asked))["amount"] == 3000
    refunds = await payments.published("payment.refunded", contract.id)
    assert sorted((r["refundedMinor"], r["reason"]) for r in refunds) == [
        (2000, "terminated"),
        (3000, "terminated"),
    ]
    settled = await payments.published("payment.item-settled", contract.id)
    assert sorted(s["outcome"] for s in settled) == ["cancelled", "refunded", "refunded"]
    assert not any(s["allSettled"] for s in settled)
    cancelled = (await escrows.detail(unpaid, contract.client))["history"][-1]
    assert (cancelled["action"], cancelled["reason"]) == ("cancelled", "terminated")

    # Delivered again (the same event, and a second one): nothing moves twice.
    await escrows.event("contract.terminated", "contract", event)
    await fleet.deliver()
    assert len(await payments.published("payment.refunded", contract.id)) == 2
    assert len(await payments.published("payment.item-settled", contract.id)) == 3

    # The submitted item follows its review; once it settles, all are settled.
    approved = await escrows.post(
        submitted, "approve", {**contract.client, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert approved.status_code == 200, approved.text
    resolved = await fleet.client("payment").post(
        f"/internal/payments/escrow/{disputed}/resolution",
        json={"outcome": "refund", "note": "Terminated", "resolvedBy": "admin-1"},
        headers=fleet.service_bearer("admin"),
    )
    assert resolved.status_code == 200, resolved.text
    settled = await payments.published("payment.item-settled", contract.id)
    assert [s["allSettled"] for s in settled][-1] is True


async def test_an_item_paid_as_it_is_cancelled_is_refunded_once_funded(
    fleet: Running, payments: Payments, escrows: Escrows
) -> None:
    """Stripe refuses to cancel an intent that was just paid: the termination
    waits (its event is delivered again) until the payment's webhook has
    funded the item, and then refunds it."""
    contract = await payments.activate((1000, 2000))
    first, second = (await payments.schedule(contract, contract.client))["items"]
    local = fleet.deps("payment").local_stripe
    intent = await local.objects.get(first["paymentIntentId"])
    intent["status"] = "succeeded"  # paid; its webhook not delivered yet
    await local.objects.put(first["paymentIntentId"], intent)
    event = escrows.terminated(contract)
    effects = fleet.deps("payment").effects
    with pytest.raises(TerminationDeferred):
        await effects.on_terminated("evt-1", event)
    assert (await escrows.detail(first["escrowId"], contract.client))["state"] == "pending_funding"
    assert (await escrows.detail(second["escrowId"], contract.client))["state"] == "cancelled"

    await payments.fund(contract, 0)  # the webhook arrives
    await effects.on_terminated("evt-1", event)  # the event, delivered again
    detail = await escrows.detail(first["escrowId"], contract.client)
    assert (detail["state"], detail["settlement"]["reason"]) == ("refunded", "terminated")
    assert (await escrows.stripe_object("re", first["escrowId"]))["amount"] == 1000
    await effects.on_terminated("evt-1", event)
    assert len(await payments.published("payment.refunded", contract.id)) == 1


async def test_a_termination_cancels_every_unpaid_item_at_once(
    fleet: Running, payments: Payments, escrows: Escrows
) -> None:
    """Each cancellation counts the ones before it as settled (it commits only
    while the others are as it read them), so one delivery ends them all."""
    contract = await payments.activate((1000, 2000, 3000))
    await fleet.deps("payment").effects.on_terminated("evt-1", escrows.terminated(contract))
    items = (await payments.schedule(contract, contract.client))["items"]
    assert [i["escrowState"] for i in items] == ["cancelled"] * 3
    settled = await payments.published("payment.item-settled", contract.id)
    assert [s["allSettled"] for s in settled] == [False, False, True]
