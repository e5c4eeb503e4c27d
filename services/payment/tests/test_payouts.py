"""Contractors' payout accounts: a Stripe Express account, opened once,
onboarded on Stripe's hosted pages."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import httpx

from mindlinks_dev.harness import Running

if TYPE_CHECKING:
    from conftest import Payments

PATH = "/v1/payments/payout-account"


async def test_a_contractor_opens_one_account_and_onboards(
    fleet: Running, payments: Payments
) -> None:
    contract = payments.contract()
    payments.contractor_profile(contract)
    opened = await payments.client.post(PATH, headers=contract.contractor)
    assert opened.status_code == 201, opened.text
    body = opened.json()
    assert body["accountId"].startswith("acct_local_")
    assert body["contractorId"] == contract.contractor_id
    assert (body["transfersActive"], body["payoutsEnabled"], body["detailsSubmitted"]) == (
        False,
        False,
        False,
    )
    url = httpx.URL(body["onboardingUrl"])
    assert str(url).startswith("http://localhost:8080/v1/payments/dev/accounts/")
    assert url.params["return_url"] == "http://localhost:8080/payouts/onboarding/complete"
    assert body["onboardingExpiresAt"] > 0

    local = fleet.deps("payment").local_stripe
    account = await local.objects.get(body["accountId"])
    assert account["type"] == "express"
    assert account["email"] == f"{contract.contractor_user_id}@example.com"
    assert account["metadata"]["contractorId"] == contract.contractor_id

    again = await payments.client.post(PATH, headers=contract.contractor)
    assert again.status_code == 200
    assert again.json()["accountId"] == body["accountId"]
    assert again.json()["onboardingUrl"]

    status = await payments.client.get(PATH, headers=contract.contractor)
    assert status.status_code == 200
    assert status.json()["transfersActive"] is False
    assert status.json()["onboardingUrl"] is None

    # Onboarding done (Stripe's hosted pages): back to the dashboard.
    done = await payments.client.get(url.path, params=dict(url.params))
    assert done.status_code == 303
    assert done.headers["location"] == "http://localhost:8080/payouts/onboarding/complete"
    status = await payments.client.get(PATH, headers=contract.contractor)
    assert (status.json()["transfersActive"], status.json()["payoutsEnabled"]) == (True, True)
    stored = await payments.fleet.deps("payment").store.account(contract.contractor_id)
    assert stored.transfers_active is True


async def test_a_payout_account_needs_a_contractor_profile(payments: Payments) -> None:
    contract = payments.contract()
    payments.problem(
        await payments.client.post(PATH, headers=contract.contractor),
        409,
        "contractor-profile-missing",
    )
    payments.contractor_profile(contract)
    payments.problem(
        await payments.client.get(PATH, headers=contract.contractor),
        404,
        "payout-account-not-found",
    )


async def test_only_contractors_have_payout_accounts(fleet: Running, payments: Payments) -> None:
    for method in ("GET", "POST"):
        assert (await payments.client.request(method, PATH)).status_code == 401
        service = await payments.client.request(
            method, PATH, headers=fleet.service_bearer("contractor")
        )
        assert service.status_code == 401
        for role in ("client", "admin"):
            response = await payments.client.request(
                method, PATH, headers=payments.headers(uuid.uuid4().hex, role)
            )
            payments.problem(response, 403, "forbidden")


async def test_the_contractor_service_is_asked_with_the_payment_token(payments: Payments) -> None:
    contract = payments.contract()
    payments.contractor_profile(contract)
    payments.stand_ins.callers.clear()
    assert (await payments.client.post(PATH, headers=contract.contractor)).status_code == 201
    assert payments.stand_ins.callers == ["payment"]
