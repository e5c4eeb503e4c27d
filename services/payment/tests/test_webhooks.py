"""Stripe's webhook: verified by Stripe's own SDK, applied once per event id;
the local Stripe's events are signed exactly as Stripe signs them."""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import stripe

from mindlinks_dev.harness import Running
from mindlinks_payment.providers.local import sign, stripe_event
from mindlinks_payment.settings import LOCAL_WEBHOOK_SECRET

if TYPE_CHECKING:
    from conftest import Contract, Payments

WEBHOOK = "/v1/payments/webhooks/stripe"


def intent_event(
    item: dict[str, Any], event_type: str = "payment_intent.succeeded", **changes: Any
) -> dict[str, Any]:
    """A PaymentIntent event as Stripe sends it, for a schedule item."""
    intent = {
        "id": item["paymentIntentId"],
        "object": "payment_intent",
        "amount": item["amountMinor"],
        "amount_received": item["amountMinor"],
        "currency": item["currency"].lower(),
        "status": "succeeded",
        "latest_charge": "ch_3Test" + uuid.uuid4().hex[:10],
        "metadata": {"contractId": "c", "itemId": item["itemId"], "escrowId": item["escrowId"]},
        **changes,
    }
    return {
        "id": "evt_" + uuid.uuid4().hex[:24],
        "object": "event",
        "api_version": stripe.api_version,
        "created": int(time.time()),
        "data": {"object": intent},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


async def post_event(
    payments: Payments, event: dict[str, Any], secret: str = LOCAL_WEBHOOK_SECRET, **sign_args: Any
) -> Any:
    """POST ``event`` signed by Stripe's own SDK helper."""
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, **sign_args)
    return await payments.client.post(
        WEBHOOK,
        content=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


async def items_of(payments: Payments, contract: Contract) -> list[dict[str, Any]]:
    body = await payments.schedule(contract, contract.client)
    items: list[dict[str, Any]] = body["items"]
    return items


async def test_a_succeeded_payment_funds_the_escrow(payments: Payments) -> None:
    contract = await payments.activate()
    settled = await payments.fund(contract, 0)
    assert settled["type"] == "payment_intent.succeeded"
    assert settled["eventId"].startswith("evt_")
    assert settled["redelivered"] is False
    assert settled["webhookStatus"] == 200

    first, second = await items_of(payments, contract)
    assert first["escrowState"] == "funded"
    assert first["fundedAt"].endswith("Z")
    assert first["clientSecret"] is None  # nothing left to confirm
    assert second["escrowState"] == "pending_funding"
    assert second["clientSecret"]

    confirmed = await payments.published("payment.confirmed", contract.id)
    assert confirmed == [
        {
            "contractId": contract.id,
            "itemId": first["itemId"],
            "transactionId": first["transactionId"],
            "escrowId": first["escrowId"],
            "clientUserId": contract.client_user_id,
            "contractorUserId": contract.contractor_user_id,
            "amountMinor": first["amountMinor"],
            "currency": "EUR",
            "clientCompanyId": contract.client_company_id,
        }
    ]
    charges = await payments.client.get(
        "/v1/payments/transactions", params={"contractId": contract.id}, headers=contract.client
    )
    status = {t["id"]: t["status"] for t in charges.json()["items"]}
    assert status == {
        first["transactionId"]: "succeeded",
        second["transactionId"]: "requires_payment",
    }


async def test_a_replayed_event_is_applied_once(payments: Payments) -> None:
    contract = await payments.activate()
    first = await payments.fund(contract, 0)
    again = await payments.fund(contract, 0)  # Stripe retrying the delivery
    assert again["redelivered"] is True
    assert again["eventId"] == first["eventId"]
    assert len(await payments.published("payment.confirmed", contract.id)) == 1
    assert (await items_of(payments, contract))[0]["escrowState"] == "funded"


async def test_the_same_event_posted_twice_answers_duplicate(payments: Payments) -> None:
    contract = await payments.activate()
    event = intent_event((await items_of(payments, contract))[1])
    first = await post_event(payments, event)
    assert first.status_code == 200, first.text
    assert first.json() == {"received": True, "duplicate": False, "outcome": "applied"}
    second = await post_event(payments, event)
    assert second.json() == {"received": True, "duplicate": True, "outcome": "duplicate"}
    # Another event id for a payment already applied changes nothing either.
    other = await post_event(payments, {**event, "id": "evt_" + uuid.uuid4().hex[:24]})
    assert other.json()["outcome"] == "ignored"
    assert len(await payments.published("payment.confirmed", contract.id)) == 1


async def test_an_event_signed_by_stripes_own_helper_funds_the_escrow(payments: Payments) -> None:
    contract = await payments.activate()
    item = (await items_of(payments, contract))[0]
    response = await post_event(payments, intent_event(item))
    assert response.status_code == 200, response.text
    assert (await items_of(payments, contract))[0]["escrowState"] == "funded"


def test_the_local_stripe_signs_as_stripe_does() -> None:
    """Stripe's SDK verifies what the local provider sends, and nothing else."""
    event = stripe_event("payment_intent.succeeded", {"id": "pi_local_1"})
    payload = json.dumps(event, separators=(",", ":"))
    now = int(time.time())
    header = sign(payload, "whsec_test", now)
    assert header == stripe.WebhookSignature.generate_signature_header(payload, "whsec_test", now)
    verified = stripe.Webhook.construct_event(payload, header, "whsec_test", tolerance=300)
    assert verified.id == event["id"]
    assert verified.type == "payment_intent.succeeded"
    assert verified.data.object["id"] == "pi_local_1"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, header, "whsec_other", tolerance=300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload + " ", header, "whsec_test", tolerance=300)


async def test_bad_signatures_are_refused_and_change_nothing(payments: Payments) -> None:
    contract = await payments.activate()
    item = (await items_of(payments, contract))[0]
    event = intent_event(item)
    payload = json.dumps(event)
    now = int(time.time())
    attempts = [
        {},  # no signature
        {"Stripe-Signature": ""},
        {"Stripe-Signature": "garbage"},
        {"Stripe-Signature": f"t={now}"},
        {"Stripe-Signature": sign(payload, "whsec_someone_else", now)},
        {"Stripe-Signature": sign(payload, LOCAL_WEBHOOK_SECRET, now - 301)},  # too old
        {"Stripe-Signature": sign(payload[:-1] + " }", LOCAL_WEBHOOK_SECRET, now)},
    ]
    for headers in attempts:
        response = await payments.client.post(
            WEBHOOK, content=payload, headers={"Content-Type": "application/json", **headers}
        )
        assert response.status_code == 400, (headers, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "invalid-signature"
    assert (await items_of(payments, contract))[0]["escrowState"] == "pending_funding"
    assert await payments.published("payment.confirmed", contract.id) == []
    # The same event, properly signed, is then applied (nothing was recorded).
    assert (await post_event(payments, event)).json()["outcome"] == "applied"


async def test_an_event_signed_too_far_in_the_future_is_refused(payments: Payments) -> None:
    """Stripe's verifier checks only that a timestamp is not too old; one more
    than the tolerance ahead (a pre-signed event, or a skewed signer) is refused
    the same way, and a small clock skew is accepted."""
    contract = await payments.activate()
    item = (await items_of(payments, contract))[0]
    event = intent_event(item)
    payload = json.dumps(event)
    now = int(time.time())
    ahead = sign(payload, LOCAL_WEBHOOK_SECRET, now + 3600)
    second_t = f"{ahead},t={now}"  # Stripe signs and checks the first t=
    for header in (
        ahead,
        sign(payload, LOCAL_WEBHOOK_SECRET, now + 301 + 5),
        second_t,
        f" t={now},{ahead}",  # not a t= to Stripe's parser: the signed one is ahead
    ):
        response = await payments.client.post(
            WEBHOOK,
            content=payload,
            headers={"Content-Type": "application/json", "Stripe-Signature": header},
        )
        assert response.status_code == 400, (header, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "invalid-signature"
    assert (await items_of(payments, contract))[0]["escrowState"] == "pending_funding"
    assert await payments.published("payment.confirmed", contract.id) == []

    skewed = await post_event(payments, event, timestamp=now + 30)
    assert skewed.status_code == 200, skewed.text
    assert skewed.json()["outcome"] == "applied"
    assert (await items_of(payments, contract))[0]["escrowState"] == "funded"


async def test_a_signed_body_that_is_not_an_event_is_refused(payments: Payments) -> None:
    now = int(time.time())
    for body in ("not json", json.dumps({"object": "event", "type": "x"})):
        response = await payments.client.post(
            WEBHOOK,
            content=body,
            headers={"Stripe-Signature": sign(body, LOCAL_WEBHOOK_SECRET, now)},
        )
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "invalid-webhook-payload"


async def test_a_failed_payment_is_recorded_and_can_be_retried(payments: Payments) -> None:
    contract = await payments.activate()
    item = (await items_of(payments, contract))[0]
    failed = await payments.client.post(f"/v1/payments/dev/intents/{item['paymentIntentId']}/fail")
    assert failed.status_code == 202, failed.text
    assert failed.json()["type"] == "payment_intent.payment_failed"

    listed = await payments.client.get(
        "/v1/payments/transactions", params={"contractId": contract.id}, headers=contract.client
    )
    charge = next(t for t in listed.json()["items"] if t["id"] == item["transactionId"])
    assert (charge["status"], charge["failureCode"]) == ("failed", "insufficient_funds")
    assert charge["failureMessage"] == "Your card has insufficient funds."
    after = (await items_of(payments, contract))[0]
    assert after["escrowState"] == "pending_funding"
    assert after["clientSecret"] == item["clientSecret"]  # the client may try again
    assert await payments.published("payment.confirmed", contract.id) == []

    await payments.fund(contract, 0)
    assert (await items_of(payments, contract))[0]["escrowState"] == "funded"
    retried = await payments.client.post(f"/v1/payments/dev/intents/{item['paymentIntentId']}/fail")
    assert retried.status_code == 409
    assert retried.json()["code"] == "intent-already-succeeded"


async def test_other_events_and_unknown_payments_are_acknowledged(payments: Payments) -> None:
    contract = await payments.activate()
    item = (await items_of(payments, contract))[0]
    unrelated = {
        **intent_event(item),
        "type": "customer.created",
        "data": {"object": {"id": "cus_1"}},
    }
    assert (await post_event(payments, unrelated)).json()["outcome"] == "ignored"
    stranger = intent_event({**item, "paymentIntentId": "pi_" + uuid.uuid4().hex})
    stranger["data"]["object"]["metadata"] = {}
    assert (await post_event(payments, stranger)).json()["outcome"] == "ignored"
    short = intent_event(item, amount=item["amountMinor"] - 1)
    assert (await post_event(payments, short)).json()["outcome"] == "ignored"
    other_currency = intent_event(item, currency="usd")
    assert (await post_event(payments, other_currency)).json()["outcome"] == "ignored"
    assert (await items_of(payments, contract))[0]["escrowState"] == "pending_funding"
    processing = intent_event(item, "payment_intent.processing", status="processing")
    assert (await post_event(payments, processing)).json()["outcome"] == "applied"


async def test_dev_routes_answer_404_for_unknown_objects(
    fleet: Running, payments: Payments
) -> None:
    for path in (
        "/v1/payments/dev/intents/pi_local_unknown/succeed",
        "/v1/payments/dev/intents/pi_local_unknown/fail",
    ):
        response = await payments.client.post(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    unknown = await payments.client.get("/v1/payments/dev/accounts/acct_local_nope/onboard")
    assert unknown.status_code == 404
    bad = await payments.client.post("/v1/payments/dev/intents/has space/succeed")
    assert bad.status_code == 422


class _Unanswered(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("the webhook took too long", request=request)


async def test_a_webhook_that_does_not_answer_is_a_failed_delivery_to_retry(
    fleet: Running, payments: Payments
) -> None:
    """Found by ``make chaos``: with the payment service slow behind its proxy,
    the local Stripe's delivery timed out and the dev route answered 500; it
    is a failed delivery (502), and settling again redelivers the same event."""
    contract = await payments.activate()
    item = (await items_of(payments, contract))[0]
    local = fleet.deps("payment").local_stripe
    assert local is not None
    local.mount(_Unanswered())
    try:
        failed = await payments.client.post(
            f"/v1/payments/dev/intents/{item['paymentIntentId']}/succeed"
        )
    finally:
        local.mount(httpx.ASGITransport(app=fleet.apps["payment"]))
    assert failed.status_code == 502, failed.text
    assert failed.headers["content-type"] == "application/problem+json"
    assert failed.json()["code"] == "webhook-delivery-failed"
    assert (await items_of(payments, contract))[0]["escrowState"] != "funded"
    retried = await payments.client.post(
        f"/v1/payments/dev/intents/{item['paymentIntentId']}/succeed"
    )
    assert retried.status_code == 202, retried.text
    assert retried.json()["redelivered"] is True
    assert retried.json()["eventId"] == failed.json()["eventId"]
    assert (await items_of(payments, contract))[0]["escrowState"] == "funded"
