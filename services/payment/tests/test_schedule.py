"""ledger.contract-activated → one PaymentIntent, escrow and charge per item,
once; the schedule as each party (and nobody else) sees it."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from mindlinks_dev.harness import Running

if TYPE_CHECKING:
    from conftest import Payments


async def test_activation_opens_one_intent_per_item(fleet: Running, payments: Payments) -> None:
    contract = await payments.activate(amounts=(150000, 50000, 25000))
    body = await payments.schedule(contract, contract.client)
    assert body["contractId"] == contract.id
    assert body["allReleased"] is False
    items = body["items"]
    assert [i["itemId"] for i in items] == [s.item_id for s in contract.schedule]
    assert [i["amountMinor"] for i in items] == [150000, 50000, 25000]
    assert [i["title"] for i in items] == ["Milestone 1", "Milestone 2", "Milestone 3"]
    assert {i["currency"] for i in items} == {"EUR"}
    assert {i["escrowState"] for i in items} == {"pending_funding"}
    assert len({i["escrowId"] for i in items}) == 3
    for item in items:
        assert item["paymentIntentId"].startswith("pi_local_")
        assert item["clientSecret"].startswith(item["paymentIntentId"] + "_secret_")
        assert item["dueDate"].startswith("2030-")

    # The intents as the (local) Stripe holds them: escrowed by the platform.
    local = fleet.deps("payment").local_stripe
    intent = await local.objects.get(items[0]["paymentIntentId"])
    assert intent["amount"] == 150000
    assert intent["currency"] == "eur"
    assert intent["transfer_group"] == contract.id
    assert intent["automatic_payment_methods"] == {"enabled": True}
    assert intent["metadata"] == {
        "contractId": contract.id,
        "itemId": items[0]["itemId"],
        "escrowId": items[0]["escrowId"],
        "transactionId": items[0]["transactionId"],
    }

    created = await payments.published("payment.intent-created", contract.id)
    assert created == [
        {
            "contractId": contract.id,
            "itemId": i["itemId"],
            "transactionId": i["transactionId"],
            "paymentIntentId": i["paymentIntentId"],
            "amountMinor": i["amountMinor"],
            "currency": "EUR",
        }
        for i in items
    ]


async def test_a_redelivered_or_repeated_activation_creates_nothing(
    fleet: Running, payments: Payments
) -> None:
    contract = await payments.activate()
    before = await payments.schedule(contract, contract.client)

    # The same event again (a relay that crashed before marking it sent) ...
    await payments.publish(contract, event_id=contract.event_id)
    await fleet.deliver()
    # ... and another event for the same contract (the ledger publishing twice).
    await payments.publish(contract)
    await fleet.deliver()

    assert await payments.schedule(contract, contract.client) == before
    assert len(await payments.published("payment.intent-created", contract.id)) == 2


async def test_a_long_schedule_is_opened_whole(payments: Payments) -> None:
    """More items than one DynamoDB transaction holds."""
    contract = await payments.activate(amounts=tuple(1000 + i for i in range(35)))
    items = (await payments.schedule(contract, contract.contractor))["items"]
    assert [i["amountMinor"] for i in items] == [1000 + i for i in range(35)]
    assert len(await payments.published("payment.intent-created", contract.id)) == 35


async def test_items_without_an_amount_are_not_charged(payments: Payments) -> None:
    contract = await payments.activate(amounts=(5000, 0))
    items = (await payments.schedule(contract, contract.client))["items"]
    assert [i["amountMinor"] for i in items] == [5000]


async def test_only_the_client_party_sees_client_secrets(
    payments: Payments, fleet: Running
) -> None:
    contract = await payments.activate()
    client = await payments.schedule(contract, contract.client)
    contractor = await payments.schedule(contract, contract.contractor)
    admin = await payments.schedule(contract, payments.headers(uuid.uuid4().hex, "admin"))
    assert all(i["clientSecret"] for i in client["items"])
    for view in (contractor, admin):
        assert [i["clientSecret"] for i in view["items"]] == [None, None]
        assert [{**i, "clientSecret": None} for i in client["items"]] == view["items"]


async def test_other_tenants_and_unknown_contracts_get_404(payments: Payments) -> None:
    contract = await payments.activate()
    strangers = [
        payments.contract().client,  # the owner of another company
        payments.headers(uuid.uuid4().hex, "contractor"),
        # The right person with the other party's role is not that party.
        payments.headers(contract.client_user_id, "contractor"),
    ]
    answers = []
    for headers in strangers:
        response = await payments.client.get(
            f"/v1/payments/contracts/{contract.id}/schedule", headers=headers
        )
        assert response.status_code == 404, response.text
        answers.append({k: v for k, v in response.json().items() if k != "instance"})
    unknown = await payments.client.get(
        f"/v1/payments/contracts/{uuid.uuid4().hex}/schedule", headers=contract.client
    )
    assert unknown.status_code == 404
    assert {k: v for k, v in unknown.json().items() if k != "instance"} == answers[0]
    assert all(a == answers[0] for a in answers)


async def test_before_activation_the_parties_see_an_empty_schedule(payments: Payments) -> None:
    """No schedule yet: the contract service says who the parties are."""
    contract = payments.contract()
    payments.stand_ins.callers.clear()
    for headers in (contract.client, contract.contractor):
        body = await payments.schedule(contract, headers)
        assert body == {"contractId": contract.id, "items": [], "allReleased": False}
    assert set(payments.stand_ins.callers) == {"payment"}
    stranger = await payments.client.get(
        f"/v1/payments/contracts/{contract.id}/schedule", headers=payments.contract().client
    )
    assert stranger.status_code == 404


@pytest.mark.parametrize("role", ["client", "contractor", "admin"])
async def test_schedule_needs_a_user_token(fleet: Running, payments: Payments, role: str) -> None:
    contract = await payments.activate()
    path = f"/v1/payments/contracts/{contract.id}/schedule"
    no_token = await payments.client.get(path)
    assert no_token.status_code == 401
    assert no_token.headers["content-type"] == "application/problem+json"
    service = await payments.client.get(path, headers=fleet.service_bearer("contract"))
    assert service.status_code == 401
    forged = await payments.client.get(path, headers={"authorization": "Bearer not-a-token"})
    assert forged.status_code == 401
    ok = await payments.client.get(
        path,
        headers=payments.headers(
            {"client": contract.client_user_id, "contractor": contract.contractor_user_id}.get(
                role, uuid.uuid4().hex
            ),
            role,
        ),
    )
    assert ok.status_code == 200


@pytest.mark.parametrize("contract_id", ["x" * 129, "has space", "semi;colon"])
async def test_a_malformed_contract_id_is_refused(payments: Payments, contract_id: str) -> None:
    contract = payments.contract()
    response = await payments.client.get(
        f"/v1/payments/contracts/{contract_id}/schedule", headers=contract.client
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid-input"
