"""The whole payment service with the real Stripe adapter, Stripe faked at its
HTTP boundary (respx): intents for a schedule, a webhook signed by Stripe's
own SDK, an Express account, a transfer tied to the charge."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import httpx
import pytest
import respx
import stripe

from mindlinks_dev.bootstrap import Bootstrapped
from mindlinks_dev.harness import Running, installed_services, run_services
from mindlinks_payment.app import create
from mindlinks_payment.settings import Settings

if TYPE_CHECKING:
    from conftest import Payments, StripeFake

KEY = "sk_test_51MindLinksTestKey"
WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture(scope="module")
async def stripe_fleet(
    fleet_resources: Bootstrapped, connect: Callable[[Running], Payments]
) -> AsyncIterator[Payments]:
    settings = Settings(
        stripe_api_key=KEY, stripe_webhook_secret=WEBHOOK_SECRET, stripe_max_network_retries=0
    )
    factories = {"auth": installed_services()["auth"], "payment": lambda: create(settings)}
    async with run_services(factories) as running:
        yield connect(running)


async def test_the_service_moves_money_through_stripe(
    stripe_fleet: Payments, stripe_api: respx.MockRouter, fake: type[StripeFake]
) -> None:
    payments = stripe_fleet
    prefix = payments.fleet.runtime("payment").settings.resource_prefix
    intents = stripe_api.post("/v1/payment_intents").mock(side_effect=fake.intent)

    contract = await payments.activate((150000, 50000))
    items = (await payments.schedule(contract, contract.client))["items"]
    # One intent per item, each under its item's key. A delivery retried (a
    # loaded machine can time a first attempt out) asks again with the same
    # keys and bodies, and Stripe answers with the first intents; an earlier
    # test's retried activation may reach Stripe meanwhile, under its own keys.
    first: dict[str, httpx.Request] = {}
    for call in intents.calls:
        key = call.request.headers["idempotency-key"]
        assert call.request.content == first.setdefault(key, call.request).content
    keys = [f"{prefix}intent-{i['transactionId']}" for i in items]
    assert [key for key in first if key in keys] == keys
    assert [i["paymentIntentId"] for i in items] == [
        fake.intent(first[key]).json()["id"] for key in keys
    ]
    assert items[0]["clientSecret"].startswith(items[0]["paymentIntentId"] + "_secret_")

    # No local Stripe when a key is configured.
    dev = await payments.client.post(
        f"/v1/payments/dev/intents/{items[0]['paymentIntentId']}/succeed"
    )
    payments.problem(dev, 404, "not-found")

    # Stripe's webhook, signed by Stripe's SDK with the endpoint's secret.
    event = {
        "id": "evt_1" + uuid.uuid4().hex[:20],
        "object": "event",
        "api_version": stripe.api_version,
        "created": int(time.time()),
        "type": "payment_intent.succeeded",
        "livemode": False,
        "data": {
            "object": {
                "id": items[0]["paymentIntentId"],
                "object": "payment_intent",
                "amount": 150000,
                "currency": "eur",
                "status": "succeeded",
                "latest_charge": "ch_3Charge",
                "metadata": {"transactionId": items[0]["transactionId"]},
            }
        },
    }
    payload = json.dumps(event)
    signed = await payments.client.post(
        "/v1/payments/webhooks/stripe",
        content=payload,
        headers={
            "Stripe-Signature": stripe.WebhookSignature.generate_signature_header(
                payload, WEBHOOK_SECRET
            )
        },
    )
    assert signed.json()["outcome"] == "applied", signed.text
    assert (await payments.schedule(contract, contract.client))["items"][0][
        "escrowState"
    ] == "funded"

    # The contractor's Express account and onboarding link.
    opened_route = stripe_api.post("/v1/accounts").mock(
        return_value=httpx.Response(200, json=fake.account("acct_1Grace", transfers="inactive"))
    )
    stripe_api.post("/v1/account_links").mock(
        return_value=httpx.Response(
            200, json={"url": "https://connect.stripe.com/setup/e/acct_1Grace/x", "expires_at": 1}
        )
    )
    payments.contractor_profile(contract)
    opened = await payments.client.post("/v1/payments/payout-account", headers=contract.contractor)
    assert opened.status_code == 201, opened.text
    assert opened.json()["onboardingUrl"] == "https://connect.stripe.com/setup/e/acct_1Grace/x"
    assert opened_route.calls.last.request.headers["idempotency-key"] == (
        f"{prefix}account-{contract.contractor_id}"
    )

    # Onboarded on Stripe: the release reads the account again, then transfers.
    stripe_api.get("/v1/accounts/acct_1Grace").mock(
        return_value=httpx.Response(200, json=fake.account("acct_1Grace"))
    )
    transfers = stripe_api.post("/v1/transfers").mock(
        return_value=httpx.Response(
            200,
            json={
                "id": "tr_1Grace",
                "amount": 150000,
                "currency": "eur",
                "destination": "acct_1Grace",
            },
        )
    )
    released = await payments.client.post(
        f"/v1/payments/escrow/{items[0]['escrowId']}/release",
        headers={**contract.client, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert released.status_code == 200, released.text
    assert released.json()["transferId"] == "tr_1Grace"
    request = transfers.calls.last.request
    assert request.headers["idempotency-key"] == f"{prefix}transfer-{items[0]['escrowId']}"
    assert fake.form(request) == {
        "amount": "150000",
        "currency": "eur",
        "destination": "acct_1Grace",
        "transfer_group": contract.id,
        "source_transaction": "ch_3Charge",
        "metadata[contractId]": contract.id,
        "metadata[itemId]": items[0]["itemId"],
        "metadata[escrowId]": items[0]["escrowId"],
    }
    assert (await payments.published("payment.released", contract.id))[0][
        "transferId"
    ] == "tr_1Grace"


async def test_a_stripe_outage_leaves_the_activation_for_redelivery(
    stripe_fleet: Payments, stripe_api: respx.MockRouter, fake: type[StripeFake]
) -> None:
    payments = stripe_fleet
    down = stripe_api.post("/v1/payment_intents").mock(
        return_value=fake.error(500, "api_error", "down")
    )
    contract = await payments.activate((1000,))
    assert down.call_count == 1
    assert (await payments.schedule(contract, contract.client))["items"] == []
    assert await payments.published("payment.intent-created", contract.id) == []

    # SQS delivers the event again after its backoff; Stripe is back by then.
    up = stripe_api.post("/v1/payment_intents").mock(side_effect=fake.intent)
    await payments.publish(contract, event_id=contract.event_id)
    await payments.fleet.deliver()
    assert len((await payments.schedule(contract, contract.client))["items"]) == 1
    assert (
        up.calls.last.request.headers["idempotency-key"]
        == (down.calls[0].request.headers["idempotency-key"])
    )
