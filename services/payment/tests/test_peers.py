"""The payment service with its real peers: the contract service says who the
parties of a contract are before its schedule exists, and the contractor
service who a contractor is when a payout account is opened. Runs against the
real client, contractor and contract services when they are installed, and
against the stand-ins of ``conftest.py`` otherwise; parties are then made the
production way (steps 1-5 of docs/lifecycle.md)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mindlinks_dev.harness import Running, installed_services
from mindlinks_dev.local_companies import local_company
from mindlinks_dev.people import register
from mindlinks_dev.pytest_plugin import StartServices
from mindlinks_fleet.events import KycDecided, ScheduleItem

if TYPE_CHECKING:
    from conftest import Contract, Payments

REAL_PEERS = {"client", "contractor", "contract", "notification", "user"} <= set(
    installed_services()
)
ONBOARDING = ("user", "notification", "client", "contractor", "contract") if REAL_PEERS else ()


def step(what: str, response: httpx.Response, *ok: int) -> None:
    if response.status_code not in ok:
        pytest.fail(
            f"onboarding through the real services failed to {what}: "
            f"{response.status_code} {response.text[:500]}"
        )


class Onboarding:
    def __init__(self, fleet: Running) -> None:
        self.fleet = fleet

    async def register(self, role: str, name: str, email: str | None = None) -> str:
        return (await register(self.fleet, role, name, email)).user_id

    async def client(self) -> tuple[str, str, dict[str, str]]:
        """A client user owning an active company: (user id, company id, headers)."""
        user_id = await self.register("client", "Ada Owner")
        headers = self.fleet.bearer(user_id, "client")
        # A fresh gb/ML number: one active company per registry number.
        local = local_company()
        jurisdiction, number, name = local.jurisdiction_code, local.company_number, local.legal_name
        response = await self.fleet.client("client").post(
            "/v1/clients/register",
            headers=headers,
            json={
                "legalName": name,
                "jurisdictionCode": jurisdiction,
                "companyNumber": number,
                "address": {
                    "line1": "1 Example Street",
                    "city": "London",
                    "postalCode": "EC1A 1AA",
                    "country": "GB",
                },
            },
        )
        step("register the company", response, 201)
        company_id: str = response.json()["id"]
        return user_id, company_id, headers

    async def contractor(self, client_headers: dict[str, str]) -> tuple[str, str, str]:
        """A KYC-verified contractor engaged with the client's company:
        (user id, contractor id, email)."""
        fleet = self.fleet
        email = f"{uuid.uuid4().hex}@example.com"
        invited = await fleet.client("client").post(
            "/v1/clients/invite-contractor",
            headers=client_headers,
            json={"email": email, "name": "Grace Hopper"},
        )
        step("invite the contractor", invited, 201)
        mailbox = await fleet.client("notification").get(
            "/v1/notifications/dev/mailbox", params={"to": email}
        )
        step("read the invitation mail", mailbox, 200)
        token = mailbox.json()["items"][0]["data"]["token"]
        user_id = await self.register("contractor", "Grace Hopper", email)
        accepted = await fleet.client("contractor").post(
            "/v1/contractors/accept-invitation",
            headers=fleet.bearer(user_id, "contractor"),
            json={"token": token},
        )
        step("accept the invitation", accepted, 200, 201)
        await fleet.deliver()
        found = await fleet.client("contractor").get(
            f"/internal/contractors/by-user/{user_id}", headers=fleet.service_bearer("payment")
        )
        step("find the contractor by user", found, 200)
        contractor_id: str = found.json()["id"]
        await self.emit(
            "kyc",
            "kyc.verified",
            KycDecided(
                session_id=uuid.uuid4().hex,
                contractor_id=contractor_id,
                user_id=user_id,
                provider="veriff",
            ),
        )
        return user_id, contractor_id, email

    async def contract(self, client_headers: dict[str, str], contractor_id: str) -> dict[str, Any]:
        response = await self.fleet.client("contract").post(
            "/v1/contracts",
            headers={**client_headers, "Idempotency-Key": uuid.uuid4().hex},
            json={
                "contractorId": contractor_id,
                "title": "Website redesign",
                "description": "Design and build the new marketing site.",
                "currency": "EUR",
                "startDate": "2030-03-01",
                "terms": {"kind": "fixed", "amountMinor": 150000, "dueDate": "2030-03-31"},
            },
        )
        step("draft the contract", response, 201)
        body: dict[str, Any] = response.json()
        return body

    async def emit(self, producer: str, name: str, payload: Any) -> None:
        await self.fleet.emit(name, payload)


@pytest.fixture(scope="module")
async def world(
    start_services: StartServices, connect: Callable[[Running], Payments]
) -> AsyncIterator[Payments]:
    async with start_services("auth", *ONBOARDING, "payment") as running:
        payments = connect(running)
        if REAL_PEERS:  # the real peers replace the stand-ins wire() mounted
            peers = running.runtime("payment").peers
            for name in ("client", "contract", "contractor"):
                peers.mount(name, httpx.ASGITransport(app=running.apps[name]))
        yield payments


async def real_contract(payments: Payments, new_contract: type[Contract]) -> Contract:
    """A draft contract between a real company and a real, verified contractor."""
    if not REAL_PEERS:
        contract = payments.contract(amounts=(150000,))
        payments.contractor_profile(contract)
        return contract
    onboarding = Onboarding(payments.fleet)
    client_user, company, client_headers = await onboarding.client()
    contractor_user, contractor_id, _ = await onboarding.contractor(client_headers)
    drafted = await onboarding.contract(client_headers, contractor_id)
    contract = new_contract(
        id=drafted["id"],
        client_user_id=client_user,
        contractor_user_id=contractor_user,
        contractor_id=contractor_id,
        client_company_id=company,
        currency="EUR",
        schedule=[
            ScheduleItem(
                item_id=f"{drafted['id']}-0",
                title="Website redesign",
                amount_minor=150000,
                due_date="2030-03-31",
            )
        ],
    )
    return payments.adopt(contract)


async def test_before_activation_the_contract_service_names_the_parties(
    world: Payments, new_contract: type[Contract]
) -> None:
    payments = world
    contract = await real_contract(payments, new_contract)
    for headers in (contract.client, contract.contractor):
        body = await payments.schedule(contract, headers)
        assert body == {"contractId": contract.id, "items": [], "allReleased": False}
    lonely = payments.headers(uuid.uuid4().hex, "client")
    response = await payments.client.get(
        f"/v1/payments/contracts/{contract.id}/schedule", headers=lonely
    )
    payments.problem(response, 409, "company-required")
    stranger = payments.headers(uuid.uuid4().hex, "contractor")
    response = await payments.client.get(
        f"/v1/payments/contracts/{contract.id}/schedule", headers=stranger
    )
    payments.problem(response, 404, "not-found")
    unknown = await payments.client.get(
        f"/v1/payments/contracts/{uuid.uuid4().hex}/schedule", headers=contract.client
    )
    payments.problem(unknown, 404, "not-found")


async def test_a_contractor_known_to_the_contractor_service_is_paid(
    world: Payments, new_contract: type[Contract]
) -> None:
    payments = world
    contract = await real_contract(payments, new_contract)
    stranger = payments.headers(uuid.uuid4().hex, "contractor")
    payments.problem(
        await payments.client.post("/v1/payments/payout-account", headers=stranger),
        409,
        "contractor-profile-missing",
    )
    opened = await payments.client.post("/v1/payments/payout-account", headers=contract.contractor)
    assert opened.status_code == 201, opened.text
    assert opened.json()["contractorId"] == contract.contractor_id
    onboarded = await payments.client.get(httpx.URL(opened.json()["onboardingUrl"]).path)
    assert onboarded.status_code == 200

    # Activated (as the ledger announces it), paid, released to that account.
    contract.event_id = await payments.publish(contract)
    await payments.fleet.deliver()
    await payments.fund(contract, 0)
    (item,) = (await payments.schedule(contract, contract.client))["items"]
    released = await payments.client.post(
        f"/v1/payments/escrow/{item['escrowId']}/release",
        headers={**contract.client, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert released.status_code == 200, released.text
    (event,) = await payments.published("payment.released", contract.id)
    assert (event["contractorId"], event["allReleased"]) == (contract.contractor_id, True)

    # The release's invoice names both parties as their services register them.
    await payments.fleet.deliver()
    listed = await payments.client.get("/v1/payments/invoices", headers=contract.client)
    (invoice,) = listed.json()["items"]
    assert (invoice["escrowId"], invoice["amountMinor"]) == (item["escrowId"], 150000)
    assert invoice["issuer"]["contractorId"] == contract.contractor_id
    assert invoice["issuer"]["legalName"] == "Grace Hopper"
    recipient = invoice["recipient"]
    assert (recipient["companyId"], recipient["jurisdictionCode"]) == (
        contract.client_company_id,
        "gb",
    )
    if REAL_PEERS:
        assert recipient["address"]["line1"] == "1 Example Street"
