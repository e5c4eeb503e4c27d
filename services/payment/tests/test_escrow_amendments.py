"""``contract.amended`` (issue 16, ADR 0017): added items are opened as at
activation, removed unpaid ones cancelled with their intents (reason
``amended``), a removed item funded just before refunded in full, submitted
and disputed ones left to their review — once, however often the event is
delivered; and the contract service's read of a contract's items."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev.harness import Running
from mindlinks_fleet.events import ContractAmended, ScheduleItem
from mindlinks_payment.service.amendments import AmendmentDeferred

if TYPE_CHECKING:
    from conftest import Contract, Escrows, Payments

ITEMS = "/internal/payments/contracts/{}/items"


def amended(
    contract: Contract,
    *,
    keep: tuple[int, ...],
    add: tuple[int, ...] = (),
    number: int = 1,
    extra_removed: tuple[str, ...] = (),
) -> ContractAmended:
    """Amendment ``number``: the first schedule's items at ``keep`` stay, the
    others are removed, and one new item is added per amount in ``add``."""
    kept = [contract.schedule[i] for i in keep]
    new = [
        ScheduleItem(
            item_id=f"{contract.id}-a{number}-{len(kept) + i}",
            title=f"Extra {i + 1}",
            amount_minor=amount,
            due_date="2030-06-30",
        )
        for i, amount in enumerate(add)
    ]
    removed = [i.item_id for i in contract.schedule if i not in kept]
    schedule = kept + new
    total = sum(i.amount_minor for i in schedule)
    return ContractAmended(
        contract_id=contract.id,
        title="Website redesign",
        client_company_id=contract.client_company_id,
        client_user_id=contract.client_user_id,
        contractor_id=contract.contractor_id,
        contractor_user_id=contract.contractor_user_id,
        number=number,
        terms_version=number + 1,
        currency=contract.currency,
        total_minor=total,
        previous_total_minor=sum(i.amount_minor for i in contract.schedule),
        review_days=contract.review_days,
        schedule=schedule,
        added_item_ids=[i.item_id for i in new],
        removed_item_ids=[*removed, *extra_removed],
        pdf_sha256="a" * 64,
        final_pdf_sha256="b" * 64,
        signature_ids=["sig-1", "sig-2"],
        ledger_entry_ids=[11, 12],
        amended_at="2030-03-01T10:00:00.000000Z",
    )


async def deliver(fleet: Running, escrows: Escrows, payload: ContractAmended) -> str:
    event_id = await escrows.event("contract.amended", "contract", payload)
    await fleet.deliver()
    return event_id


async def states(escrows: Escrows, contract: Contract) -> dict[str, str]:
    """Item id → escrow state, as the client's schedule shows them."""
    items = (await escrows.payments.schedule(contract, contract.client))["items"]
    return {i["itemId"]: i["escrowState"] for i in items}


async def test_an_amendment_opens_added_items_and_cancels_removed_unpaid_ones(
    fleet: Running, payments: Payments, escrows: Escrows
) -> None:
    contract = await payments.activate((1000, 2000))
    first, second = (await payments.schedule(contract, contract.client))["items"]
    # An id payment never opened is no longer owed either: nothing to do for it.
    payload = amended(contract, keep=(0,), add=(3000,), extra_removed=(f"{contract.id}-9",))
    await deliver(fleet, escrows, payload)

    schedule = (await payments.schedule(contract, contract.client))["items"]
    added_id = f"{contract.id}-a1-1"
    # Kept and removed items keep their places; the added one comes after them.
    assert [(i["itemId"], i["escrowState"]) for i in schedule] == [
        (first["itemId"], "pending_funding"),
        (second["itemId"], "cancelled"),
        (added_id, "pending_funding"),
    ]
    added = schedule[2]
    assert (added["amountMinor"], added["title"], added["dueDate"]) == (
        3000,
        "Extra 1",
        "2030-06-30",
    )
    assert added["clientSecret"]  # the client can pay it at once
    assert schedule[1]["clientSecret"] is None
    local = fleet.deps("payment").local_stripe
    assert (await local.objects.get(second["paymentIntentId"]))["status"] == "canceled"
    new_intent = await local.objects.get(added["paymentIntentId"])
    assert (new_intent["amount"], new_intent["metadata"]["itemId"]) == (3000, added_id)
    assert (await local.objects.get(first["paymentIntentId"]))["status"] != "canceled"

    created = await payments.published("payment.intent-created", contract.id)
    assert [c["itemId"] for c in created][-1] == added_id
    [settled] = await payments.published("payment.item-settled", contract.id)
    assert (settled["itemId"], settled["outcome"], settled["reason"]) == (
        second["itemId"],
        "cancelled",
        "amended",
    )
    assert settled["allSettled"] is False  # the kept and the added items are owed
    cancelled = (await escrows.detail(second["escrowId"], contract.client))["history"][-1]
    assert (cancelled["action"], cancelled["reason"], cancelled["bySide"]) == (
        "cancelled",
        "amended",
        "system",
    )
    opened = (await escrows.detail(added["escrowId"], contract.contractor))["history"]
    assert [h["action"] for h in opened] == ["opened"]

    # Delivered again (another event of the same amendment, and a redelivery
    # of one): no second intent, item or cancellation.
    await deliver(fleet, escrows, payload)
    await fleet.deps("payment").amendments.on_amended("evt-again", payload)
    assert (await payments.schedule(contract, contract.client))["items"] == schedule
    assert len(await payments.published("payment.intent-created", contract.id)) == 3
    assert len(await payments.published("payment.item-settled", contract.id)) == 1

    # The added item is paid like any other.
    await payments.fund(contract, 2)
    assert (await states(escrows, contract))[added_id] == "funded"


async def test_a_removed_item_funded_just_before_is_refunded_in_full(
    fleet: Running, payments: Payments, escrows: Escrows
) -> None:
    """The ADR's race: the client paid the item in the instant between the
    contractor's signature and payment's handling of the amendment."""
    contract = await payments.activate((1000, 2000))
    first, second = (await payments.schedule(contract, contract.client))["items"]
    await payments.fund(contract, 1)
    payload = amended(contract, keep=(0,))
    await deliver(fleet, escrows, payload)

    detail = await escrows.detail(second["escrowId"], contract.client)
    assert detail["state"] == "refunded"
    assert (detail["settlement"]["refundedMinor"], detail["settlement"]["releasedMinor"]) == (
        2000,
        0,
    )
    assert detail["settlement"]["reason"] == "amended"
    # The item's history says why the money went back.
    assert [(h["action"], h["reason"]) for h in detail["history"][-2:]] == [
        ("settling", "amended"),
        ("refunded", "amended"),
    ]
    assert (await escrows.stripe_object("re", second["escrowId"]))["amount"] == 2000
    [refund] = await payments.published("payment.refunded", contract.id)
    assert (refund["refundedMinor"], refund["reason"]) == (2000, "amended")
    [settled] = await payments.published("payment.item-settled", contract.id)
    assert (settled["outcome"], settled["reason"], settled["allSettled"]) == (
        "refunded",
        "amended",
        False,
    )
    assert (await states(escrows, contract))[first["itemId"]] == "pending_funding"

    await deliver(fleet, escrows, payload)
    await fleet.deps("payment").amendments.on_amended("evt-again", payload)
    assert len(await payments.published("payment.refunded", contract.id)) == 1
    assert len(await payments.published("payment.item-settled", contract.id)) == 1


async def test_removed_submitted_and_disputed_items_follow_their_review(
    fleet: Running, payments: Payments, escrows: Escrows
) -> None:
    contract, (kept, submitted, disputed) = await escrows.funded((1000, 2000, 3000))
    await escrows.submit(submitted, contract)
    await escrows.submit(disputed, contract)
    await escrows.post(disputed, "disputes", contract.client, {"reason": "Not delivered"})
    await deliver(fleet, escrows, amended(contract, keep=(0,)))

    for escrow_id, state in ((kept, "funded"), (submitted, "submitted"), (disputed, "disputed")):
        assert (await escrows.detail(escrow_id, contract.client))["state"] == state
    assert await payments.published("payment.item-settled", contract.id) == []
    assert await payments.published("payment.refunded", contract.id) == []
    assert await escrows.stripe_object("re", submitted) is None


async def test_the_contract_completes_when_the_amendment_removes_the_last_open_items(
    fleet: Running, payments: Payments, escrows: Escrows
) -> None:
    contract = await payments.activate((1000, 2000, 3000))
    paid = (await payments.schedule(contract, contract.client))["items"][0]["escrowId"]
    await payments.fund(contract, 0)
    await payments.payout_ready(contract)
    approved = await escrows.post(
        paid, "approve", {**contract.client, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert approved.status_code == 200, approved.text

    await deliver(fleet, escrows, amended(contract, keep=(0,)))
    assert list((await states(escrows, contract)).values()) == [
        "released",
        "cancelled",
        "cancelled",
    ]
    settled = await payments.published("payment.item-settled", contract.id)
    assert [(s["outcome"], s["allSettled"]) for s in settled] == [
        ("released", False),
        ("cancelled", False),
        ("cancelled", True),  # nothing is owed any more: the contract completes
    ]


async def test_the_contract_goes_on_when_the_amendment_adds_what_it_removes(
    fleet: Running, payments: Payments, escrows: Escrows
) -> None:
    """The removal of the last open item counts the items the same amendment adds."""
    contract = await payments.activate((1000,))
    await deliver(fleet, escrows, amended(contract, keep=(), add=(1500,)))
    assert list((await states(escrows, contract)).values()) == ["cancelled", "pending_funding"]
    [settled] = await payments.published("payment.item-settled", contract.id)
    assert (settled["outcome"], settled["allSettled"]) == ("cancelled", False)


async def test_an_item_paid_as_it_is_cancelled_is_refunded_once_funded(
    fleet: Running, payments: Payments, escrows: Escrows
) -> None:
    """Stripe refuses to cancel an intent that was just paid: the amendment
    waits (its event is delivered again) until the payment's webhook has
    funded the item, and then refunds it."""
    contract = await payments.activate((1000, 2000, 3000))
    _, first, second = (await payments.schedule(contract, contract.client))["items"]
    local = fleet.deps("payment").local_stripe
    intent = await local.objects.get(first["paymentIntentId"])
    intent["status"] = "succeeded"  # paid; its webhook not delivered yet
    await local.objects.put(first["paymentIntentId"], intent)
    payload = amended(contract, keep=(0,), add=(500,))
    amendments = fleet.deps("payment").amendments
    with pytest.raises(AmendmentDeferred):
        await amendments.on_amended("evt-1", payload)
    found = await states(escrows, contract)
    assert found[first["itemId"]] == "pending_funding"
    assert found[second["itemId"]] == "cancelled"
    assert found[f"{contract.id}-a1-1"] == "pending_funding"  # opened before the removals

    await payments.fund(contract, 1)  # the webhook arrives
    await amendments.on_amended("evt-1", payload)  # the event, delivered again
    detail = await escrows.detail(first["escrowId"], contract.client)
    assert (detail["state"], detail["settlement"]["reason"]) == ("refunded", "amended")
    assert (await escrows.stripe_object("re", first["escrowId"]))["amount"] == 2000
    await amendments.on_amended("evt-1", payload)
    assert len(await payments.published("payment.refunded", contract.id)) == 1
    assert len(await payments.published("payment.intent-created", contract.id)) == 4


async def test_an_amendment_before_the_activation_waits_for_it(
    fleet: Running, payments: Payments, escrows: Escrows
) -> None:
    contract = payments.contract((1000, 2000))  # activated, not yet here
    payload = amended(contract, keep=(0,), add=(500,))
    with pytest.raises(AmendmentDeferred):
        await fleet.deps("payment").amendments.on_amended("evt-early", payload)
    assert await payments.published("payment.intent-created", contract.id) == []

    contract.event_id = await payments.publish(contract)
    await fleet.deliver()
    await fleet.deps("payment").amendments.on_amended("evt-early", payload)
    assert list((await states(escrows, contract)).values()) == [
        "pending_funding",
        "cancelled",
        "pending_funding",
    ]


# the contract service's read ------------------------------------------------------


async def test_the_contract_service_reads_a_contracts_items(
    fleet: Running, payments: Payments
) -> None:
    contract = await payments.activate((1000, 2000))
    await payments.fund(contract, 1)
    client = fleet.client("payment")
    response = await client.get(ITEMS.format(contract.id), headers=fleet.service_bearer("contract"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body == {
        "contractId": contract.id,
        "items": [
            {"itemId": f"{contract.id}-0", "state": "pending_funding", "amountMinor": 1000},
            {"itemId": f"{contract.id}-1", "state": "funded", "amountMinor": 2000},
        ],
    }
    # Unknown (or not yet activated): no items, never a 404.
    unknown = await client.get(
        ITEMS.format(uuid.uuid4().hex), headers=fleet.service_bearer("contract")
    )
    assert unknown.status_code == 200, unknown.text
    assert unknown.json()["items"] == []


async def test_only_the_contract_service_reads_a_contracts_items(
    fleet: Running, payments: Payments
) -> None:
    contract = await payments.activate((1000,))
    client = fleet.client("payment")
    path = ITEMS.format(contract.id)
    for other in ("admin", "ledger", "notification"):
        refused = await client.get(path, headers=fleet.service_bearer(other))
        payments.problem(refused, 403, "forbidden")
    payments.problem(await client.get(path), 401, "unauthorized")
    # A user's access token is no service token, not even the client's.
    payments.problem(await client.get(path, headers=contract.client), 401, "unauthorized")
    bad = await client.get(ITEMS.format("has space"), headers=fleet.service_bearer("contract"))
    payments.problem(bad, 422)
