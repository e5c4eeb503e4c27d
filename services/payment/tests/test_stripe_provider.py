"""The real Stripe adapter — Stripe's own SDK on its async httpx transport —
against Stripe's HTTP boundary (respx): paths, form-encoded bodies,
idempotency keys, error mapping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import httpx
import pytest
import respx
import stripe

from mindlinks_kit.errors import Problem
from mindlinks_payment.providers import PaymentDeclined, ProviderRefused, ProviderUnavailable
from mindlinks_payment.providers.stripe_api import SharedHTTPXClient, StripeProvider

if TYPE_CHECKING:
    from conftest import StripeFake

KEY = "sk_test_51MindLinksTestKey"
WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture
async def provider() -> AsyncIterator[StripeProvider]:
    async with httpx.AsyncClient() as http:
        yield StripeProvider.connect(api_key=KEY, http=http, timeout=5, max_network_retries=0)


async def test_an_intent_is_created_as_stripe_documents(
    provider: StripeProvider, stripe_api: respx.MockRouter, fake: type[StripeFake]
) -> None:
    route = stripe_api.post("/v1/payment_intents").mock(side_effect=fake.intent)
    made = await provider.create_intent(
        amount_minor=150000,
        currency="EUR",
        transfer_group="contract-1",
        metadata={"contractId": "contract-1", "itemId": "contract-1-0", "escrowId": "esc_1"},
        idempotency_key="t-intent-txn_1",
    )
    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["idempotency-key"] == "t-intent-txn_1"
    assert request.headers["stripe-version"] == stripe.api_version
    assert fake.form(request) == {
        "amount": "150000",
        "currency": "eur",
        "transfer_group": "contract-1",
        "metadata[contractId]": "contract-1",
        "metadata[itemId]": "contract-1-0",
        "metadata[escrowId]": "esc_1",
        "automatic_payment_methods[enabled]": "true",
    }
    assert made.id.startswith("pi_3")
    assert made.client_secret.startswith(made.id + "_secret_")
    assert made.status == "requires_payment_method"


async def test_a_transfer_is_created_as_stripe_documents(
    provider: StripeProvider, stripe_api: respx.MockRouter, fake: type[StripeFake]
) -> None:
    route = stripe_api.post("/v1/transfers").mock(
        return_value=httpx.Response(
            200,
            json={
                "id": "tr_1Test",
                "object": "transfer",
                "amount": 5000,
                "currency": "eur",
                "destination": "acct_1Test",
            },
        )
    )
    made = await provider.create_transfer(
        amount_minor=5000,
        currency="EUR",
        destination="acct_1Test",
        transfer_group="contract-1",
        source_transaction="ch_1Test",
        metadata={"escrowId": "esc_1"},
        idempotency_key="t-transfer-esc_1",
    )
    request = route.calls.last.request
    assert request.headers["idempotency-key"] == "t-transfer-esc_1"
    assert fake.form(request) == {
        "amount": "5000",
        "currency": "eur",
        "destination": "acct_1Test",
        "transfer_group": "contract-1",
        "source_transaction": "ch_1Test",
        "metadata[escrowId]": "esc_1",
    }
    assert (made.id, made.amount_minor, made.currency, made.destination) == (
        "tr_1Test",
        5000,
        "EUR",
        "acct_1Test",
    )

    await provider.create_transfer(
        amount_minor=5000,
        currency="EUR",
        destination="acct_1Test",
        transfer_group="contract-1",
        source_transaction=None,
        metadata={},
        idempotency_key="t-transfer-esc_2",
    )
    assert "source_transaction" not in fake.form(route.calls.last.request)


async def test_accounts_and_onboarding_links(
    provider: StripeProvider, stripe_api: respx.MockRouter, fake: type[StripeFake]
) -> None:
    created = stripe_api.post("/v1/accounts").mock(
        return_value=httpx.Response(200, json=fake.account(transfers="inactive"))
    )
    linked = stripe_api.post("/v1/account_links").mock(
        return_value=httpx.Response(
            200,
            json={
                "object": "account_link",
                "url": "https://connect.stripe.com/setup/e/acct_1Test/abc",
                "expires_at": 1900000000,
                "created": 1899999700,
            },
        )
    )
    read = stripe_api.get("/v1/accounts/acct_1Test").mock(
        return_value=httpx.Response(200, json=fake.account())
    )
    opened = await provider.create_express_account(
        email="grace@example.com",
        metadata={"contractorId": "c-1"},
        idempotency_key="t-account-c-1",
    )
    assert created.calls.last.request.headers["idempotency-key"] == "t-account-c-1"
    assert fake.form(created.calls.last.request) == {
        "type": "express",
        "email": "grace@example.com",
        "capabilities[transfers][requested]": "true",
        "metadata[contractorId]": "c-1",
    }
    assert (opened.id, opened.transfers_active, opened.payouts_enabled) == (
        "acct_1Test",
        False,
        False,
    )
    link = await provider.create_account_link(
        account_id="acct_1Test",
        refresh_url="https://app.example/refresh",
        return_url="https://app.example/return",
    )
    assert fake.form(linked.calls.last.request) == {
        "account": "acct_1Test",
        "refresh_url": "https://app.example/refresh",
        "return_url": "https://app.example/return",
        "type": "account_onboarding",
    }
    assert (link.url, link.expires_at) == (
        "https://connect.stripe.com/setup/e/acct_1Test/abc",
        1900000000,
    )
    status = await provider.retrieve_account("acct_1Test")
    assert read.called
    assert (status.transfers_active, status.payouts_enabled, status.details_submitted) == (
        True,
        True,
        True,
    )


@pytest.mark.parametrize(
    ("answer", "raised", "status", "message"),
    [
        (
            (
                402,
                "card_error",
                "Your card has insufficient funds.",
                {"code": "card_declined", "decline_code": "insufficient_funds"},
            ),
            PaymentDeclined,
            402,
            "Your card has insufficient funds.",
        ),
        (
            (400, "invalid_request_error", "Amount must be at least €0.50", {"param": "amount"}),
            ProviderRefused,
            502,
            "Stripe refused to create the payment: Amount must be at least €0.50",
        ),
        (
            (400, "idempotency_error", "Keys for idempotent requests can only be used...", {}),
            ProviderRefused,
            502,
            "Stripe refused to create the payment: Keys for idempotent requests",
        ),
        (
            (401, "invalid_request_error", "Invalid API Key provided: sk_test_****tKey", {}),
            ProviderRefused,
            502,
            "Stripe refused the platform's credentials",
        ),
        ((429, "rate_limit_error", "Too many requests", {}), ProviderUnavailable, 503, "429"),
        ((500, "api_error", "Something went wrong", {}), ProviderUnavailable, 503, "500"),
        ((502, None, "<html>bad gateway</html>", {}), ProviderUnavailable, 503, "502"),
    ],
)
async def test_stripe_errors_become_clear_problems(
    provider: StripeProvider,
    stripe_api: respx.MockRouter,
    fake: type[StripeFake],
    answer: tuple[int, str | None, str, dict[str, str]],
    raised: type[Problem],
    status: int,
    message: str,
) -> None:
    code, kind, text, extra = answer
    response = fake.error(code, kind, text, **extra) if kind else httpx.Response(code, text=text)
    stripe_api.post("/v1/payment_intents").mock(return_value=response)
    with pytest.raises(raised) as caught:
        await provider.create_intent(
            amount_minor=10,
            currency="EUR",
            transfer_group="c",
            metadata={},
            idempotency_key="k",
        )
    assert caught.value.status == status
    assert message in caught.value.detail
    assert "sk_test" not in caught.value.detail
    if raised is PaymentDeclined:
        assert caught.value.extensions == {
            "providerCode": "card_declined",
            "declineCode": "insufficient_funds",
        }


async def test_a_network_failure_is_an_outage(
    provider: StripeProvider, stripe_api: respx.MockRouter
) -> None:
    stripe_api.get("/v1/accounts/acct_1").mock(side_effect=httpx.ConnectTimeout("slow"))
    with pytest.raises(ProviderUnavailable, match="APIConnectionError"):
        await provider.retrieve_account("acct_1")


async def test_retries_repeat_the_same_idempotency_key(
    stripe_api: respx.MockRouter, fake: type[StripeFake]
) -> None:
    route = stripe_api.post("/v1/transfers").mock(
        side_effect=[
            fake.error(500, "api_error", "Something went wrong"),
            httpx.Response(
                200,
                json={"id": "tr_1", "amount": 1, "currency": "eur", "destination": "acct_1"},
            ),
        ]
    )
    async with httpx.AsyncClient() as http:
        transport = SharedHTTPXClient(http, timeout=5)
        transport._sleep_time_seconds = lambda num_retries: 0.0  # type: ignore[method-assign]
        provider = StripeProvider(
            stripe.StripeClient(KEY, http_client=transport, max_network_retries=2)
        )
        made = await provider.create_transfer(
            amount_minor=1,
            currency="EUR",
            destination="acct_1",
            transfer_group="c",
            source_transaction=None,
            metadata={},
            idempotency_key="t-transfer-esc_9",
        )
    assert made.id == "tr_1"
    assert [c.request.headers["idempotency-key"] for c in route.calls] == ["t-transfer-esc_9"] * 2


async def test_a_refund_is_created_as_stripe_documents(
    provider: StripeProvider, stripe_api: respx.MockRouter, fake: type[StripeFake]
) -> None:
    route = stripe_api.post("/v1/refunds").mock(
        return_value=httpx.Response(
            200,
            json={
                "id": "re_3Test",
                "object": "refund",
                "amount": 4000,
                "currency": "eur",
                "payment_intent": "pi_3Test",
                "status": "pending",
                "metadata": {"escrowId": "esc_1"},
            },
        )
    )
    refund = await provider.create_refund(
        payment_intent="pi_3Test",
        amount_minor=4000,
        metadata={"escrowId": "esc_1", "transactionId": "txn_1"},
        idempotency_key="t-refund-esc_1",
    )
    request = route.calls.last.request
    assert request.headers["idempotency-key"] == "t-refund-esc_1"
    assert fake.form(request) == {
        "payment_intent": "pi_3Test",
        "amount": "4000",
        "metadata[escrowId]": "esc_1",
        "metadata[transactionId]": "txn_1",
    }
    assert (refund.id, refund.amount_minor, refund.status) == ("re_3Test", 4000, "pending")


async def test_an_unpaid_intent_is_cancelled_and_a_paid_one_refused(
    provider: StripeProvider, stripe_api: respx.MockRouter, fake: type[StripeFake]
) -> None:
    route = stripe_api.post("/v1/payment_intents/pi_3Open/cancel").mock(
        return_value=httpx.Response(
            200, json={"id": "pi_3Open", "object": "payment_intent", "status": "canceled"}
        )
    )
    await provider.cancel_intent("pi_3Open", idempotency_key="t-cancel-esc_1")
    request = route.calls.last.request
    assert request.headers["idempotency-key"] == "t-cancel-esc_1"
    assert fake.form(request) == {"cancellation_reason": "abandoned"}

    stripe_api.post("/v1/payment_intents/pi_3Paid/cancel").mock(
        return_value=fake.error(
            400,
            "invalid_request_error",
            "You cannot cancel this PaymentIntent because it has a status of succeeded.",
            code="payment_intent_unexpected_state",
        )
    )
    with pytest.raises(ProviderRefused) as refused:
        await provider.cancel_intent("pi_3Paid", idempotency_key="t-cancel-esc_2")
    assert refused.value.extensions["providerCode"] == "payment_intent_unexpected_state"


async def test_a_refund_stripe_cannot_take_is_an_outage(
    provider: StripeProvider, stripe_api: respx.MockRouter, fake: type[StripeFake]
) -> None:
    stripe_api.post("/v1/refunds").mock(return_value=fake.error(500, "api_error", "boom"))
    with pytest.raises(ProviderUnavailable):
        await provider.create_refund(
            payment_intent="pi_3Test", amount_minor=1, metadata={}, idempotency_key="k"
        )


async def test_a_late_retry_finds_what_an_earlier_attempt_made(
    provider: StripeProvider, stripe_api: respx.MockRouter
) -> None:
    transfers = stripe_api.get("/v1/transfers").mock(
        return_value=httpx.Response(
            200,
            json={
                "object": "list",
                "has_more": False,
                "data": [
                    {
                        "id": "tr_other",
                        "object": "transfer",
                        "amount": 1,
                        "currency": "eur",
                        "destination": "acct_1",
                        "metadata": {"escrowId": "esc_other"},
                    },
                    {
                        "id": "tr_mine",
                        "object": "transfer",
                        "amount": 7000,
                        "currency": "eur",
                        "destination": "acct_1",
                        "metadata": {"escrowId": "esc_1"},
                    },
                ],
            },
        )
    )
    found = await provider.find_transfer(transfer_group="contract-1", escrow_id="esc_1")
    assert found is not None
    assert (found.id, found.amount_minor, found.currency) == ("tr_mine", 7000, "EUR")
    assert transfers.calls.last.request.url.params["transfer_group"] == "contract-1"
    assert await provider.find_transfer(transfer_group="contract-1", escrow_id="esc_2") is None

    refunds = stripe_api.get("/v1/refunds").mock(
        return_value=httpx.Response(
            200,
            json={
                "object": "list",
                "has_more": False,
                "data": [
                    {
                        "id": "re_mine",
                        "object": "refund",
                        "amount": 3000,
                        "status": "succeeded",
                        "metadata": {"escrowId": "esc_1"},
                    },
                    {
                        "id": "re_bare",
                        "object": "refund",
                        "amount": 5,
                        "status": "succeeded",
                        "metadata": {},
                    },
                ],
            },
        )
    )
    refund = await provider.find_refund(payment_intent="pi_3Test", escrow_id="esc_1")
    assert refund is not None
    assert (refund.id, refund.amount_minor, refund.status) == ("re_mine", 3000, "succeeded")
    assert refunds.calls.last.request.url.params["payment_intent"] == "pi_3Test"
    assert await provider.find_refund(payment_intent="pi_3Test", escrow_id="esc_9") is None
