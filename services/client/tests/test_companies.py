"""POST /v1/clients/register against the registry policy; GET/PATCH /v1/clients/me;
the internal company routes."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev.harness import Running
from mindlinks_dev.local_companies import local_company
from mindlinks_dev.problem import needs_a_user_token

if TYPE_CHECKING:
    from conftest import World

ADDRESS = {"line1": "1 Example Street", "city": "London", "postalCode": "EC1A 1AA", "country": "gb"}
REGISTERED_ADDRESS = {
    "line1": "1 Example Street",
    "line2": None,
    "city": "London",
    "region": None,
    "postalCode": "EC1A 1AA",
    "country": "GB",
}
"""The address given at registration, as peers read it."""


async def test_a_registered_active_company(fleet: Running, world: World) -> None:
    owner = await world.account()
    local = local_company()
    response = await world.register(
        owner, local.company_number, local.legal_name, tradingName="Acme"
    )
    assert response.status_code == 201, response.text
    company = response.json()
    assert company == {
        "id": company["id"],
        "ownerUserId": owner.user_id,
        "legalName": local.legal_name,
        "tradingName": "Acme",
        "jurisdictionCode": "gb",
        "companyNumber": local.company_number,
        "address": {**ADDRESS, "line2": None, "country": "GB"},
        "status": "active",
        "nameMismatch": False,
        "holdReasons": [],
        "registry": {
            "checkedAt": company["createdAt"],
            "reachable": True,
            "name": local.legal_name.upper(),
            "status": "Active",
            "registeredAddress": "1 Example Street, London, EC1A 1AA",
        },
        "createdAt": company["createdAt"],
        "updatedAt": company["createdAt"],
        "version": 1,
    }
    assert company["createdAt"].endswith("Z")
    me = await world.client.get("/v1/clients/me", headers=owner.headers)
    assert me.status_code == 200
    assert me.json() == company
    [event] = [
        e for e in await world.published("company.registered") if e["companyId"] == company["id"]
    ]
    assert event == {
        "companyId": company["id"],
        "ownerUserId": owner.user_id,
        "legalName": local.legal_name,
        "jurisdictionCode": "gb",
        "companyNumber": local.company_number,
        "status": "active",
        "nameMismatch": False,
    }


@pytest.mark.parametrize(
    ("spelling", "jurisdiction", "naming"),
    [
        ("{}", "gb", "Mindlinks Local {} Ltd"),
        (" ml {} ", "GB", "mindlinks local {} limited."),
    ],
)
async def test_an_active_company_is_its_numbers_first_registration(
    world: World, spelling: str, jurisdiction: str, naming: str
) -> None:
    """A ``gb/ML`` number nobody holds, its registered name in any spelling:
    active (the local registry gives no officer list for these)."""
    digits = local_company().company_number.removeprefix("ML")
    owner = await world.account()
    number = spelling.format("ML" + digits if spelling == "{}" else digits[:3] + " " + digits[3:])
    response = await world.register(owner, number, naming.format(digits), jurisdiction)
    assert response.status_code == 201, response.text
    company = response.json()
    assert (company["status"], company["holdReasons"]) == ("active", [])
    assert company["companyNumber"] == f"ML{digits}"


@pytest.mark.parametrize(
    ("number", "legal_name", "hold", "mismatch", "reachable"),
    [
        ("12345678", "Totally Different Ltd", "name-mismatch", True, True),
        ("99999999", "Anything Ltd", "registry-unreachable", False, False),
    ],
)
async def test_the_registry_holds_a_company_for_review(
    world: World, number: str, legal_name: str, hold: str, mismatch: bool, reachable: bool
) -> None:
    owner = await world.account()
    response = await world.register(owner, number, legal_name)
    assert response.status_code == 201, response.text
    company = response.json()
    assert (company["status"], company["nameMismatch"]) == ("pending_review", mismatch)
    # Another test's company may hold the number too: that is a reason more.
    assert hold in company["holdReasons"]
    assert company["registry"]["reachable"] is reachable
    [event] = [
        e for e in await world.published("company.registered") if e["companyId"] == company["id"]
    ]
    assert (event["status"], event["nameMismatch"]) == ("pending_review", mismatch)


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("00000001", "company-not-found"),
        ("87654321", "company-inactive"),  # dissolved
        ("55667788", "company-inactive"),  # in liquidation
    ],
)
async def test_unknown_and_inactive_companies_are_refused(
    world: World, number: str, code: str
) -> None:
    owner = await world.account()
    world.problem(await world.register(owner, number, "Whatever Ltd"), 422, code)
    # No company was registered, so the account is a member of none.
    world.problem(
        await world.client.get("/v1/clients/me", headers=owner.headers),
        409,
        "company-required",
    )


async def test_one_company_per_owner(world: World) -> None:
    owner = await world.company_owner()
    world.problem(
        await world.register(owner, "11223344", "Bright Consulting"),
        409,
        "company-already-registered",
    )


async def test_register_needs_a_client(fleet: Running, world: World) -> None:
    contractor = await world.account("contractor")
    world.problem(await world.register(contractor), 403, "forbidden")
    body = {
        "legalName": "Acme Widgets Ltd",
        "jurisdictionCode": "gb",
        "companyNumber": "12345678",
        "address": ADDRESS,
    }
    world.problem(await world.client.post("/v1/clients/register", json=body), 401, "unauthorized")
    world.problem(
        await world.client.post(
            "/v1/clients/register", json=body, headers=fleet.service_bearer("contract")
        ),
        401,
        "unauthorized",
    )


@pytest.mark.parametrize(
    "change",
    [
        {"legalName": ""},
        {"jurisdictionCode": "Great Britain"},
        {"companyNumber": "12 34$"},
        {"address": {**ADDRESS, "country": "GBR"}},
        {"address": {"line1": "1 Example Street"}},
        {"address": None},
        {"unexpected": True},
    ],
)
async def test_register_refuses_bad_input(world: World, change: dict[str, Any]) -> None:
    owner = await world.account()
    body = {
        "legalName": "Acme Widgets Ltd",
        "jurisdictionCode": "gb",
        "companyNumber": "12345678",
        "address": ADDRESS,
        **change,
    }
    response = await world.client.post("/v1/clients/register", json=body, headers=owner.headers)
    world.problem(response, 422, "invalid-input")


async def test_the_owner_edits_with_optimistic_locking(world: World) -> None:
    owner = await world.company_owner()
    address = {
        "line1": "2 New Road",
        "line2": "Floor 3",
        "city": "Leeds",
        "postalCode": "LS1 1AA",
        "country": "GB",
    }
    patched = await world.client.patch(
        "/v1/clients/me",
        headers=owner.headers,
        json={"tradingName": "Acme", "address": address, "version": 1},
    )
    assert patched.status_code == 200, patched.text
    company = patched.json()
    assert (company["tradingName"], company["address"], company["version"]) == ("Acme", address, 2)
    assert company["updatedAt"] > company["createdAt"]

    stale = await world.client.patch(
        "/v1/clients/me", headers=owner.headers, json={"tradingName": "Other", "version": 1}
    )
    world.problem(stale, 409, "stale-version")
    cleared = await world.client.patch(
        "/v1/clients/me", headers=owner.headers, json={"tradingName": None, "version": 2}
    )
    assert (cleared.json()["tradingName"], cleared.json()["version"]) == (None, 3)
    unchanged = await world.client.patch(
        "/v1/clients/me", headers=owner.headers, json={"version": 3}
    )
    assert unchanged.json()["version"] == 3


@pytest.mark.parametrize(
    "body",
    [
        {"tradingName": "Acme"},
        {"address": None, "version": 1},
        {"legalName": "Other Ltd", "version": 1},
        {"status": "active", "version": 1},
        {"version": 0},
    ],
)
async def test_patch_refuses_bad_input(world: World, body: dict[str, Any]) -> None:
    owner = await world.company_owner()
    world.problem(
        await world.client.patch("/v1/clients/me", headers=owner.headers, json=body),
        422,
        "invalid-input",
    )


async def test_me_needs_a_client_with_a_company(fleet: Running, world: World) -> None:
    stranger = await world.account()
    world.problem(
        await world.client.get("/v1/clients/me", headers=stranger.headers),
        409,
        "company-required",
    )
    patch = {"tradingName": "X", "version": 1}
    world.problem(
        await world.client.patch("/v1/clients/me", headers=stranger.headers, json=patch),
        409,
        "company-required",
    )
    contractor = await world.account("contractor")
    world.problem(
        await world.client.get("/v1/clients/me", headers=contractor.headers), 403, "forbidden"
    )
    contract = fleet.service_bearer("contract")
    await needs_a_user_token(world.client, "GET", "/v1/clients/me", contract)


async def test_internal_company_routes(fleet: Running, world: World) -> None:
    owner = await world.company_owner()
    company = (await world.client.get("/v1/clients/me", headers=owner.headers)).json()
    record = {
        "id": company["id"],
        "legalName": company["legalName"],
        "tradingName": None,
        "status": "active",
        "ownerUserId": owner.user_id,
        "jurisdictionCode": "gb",
        "companyNumber": company["companyNumber"],
        "nameMismatch": False,
        "address": REGISTERED_ADDRESS,
    }
    service = fleet.service_bearer("contract")
    by_id = await world.client.get(f"/internal/clients/companies/{company['id']}", headers=service)
    assert (by_id.status_code, by_id.json()) == (200, record)
    # The payment service reads it for the invoices billed to the company.
    invoicing = fleet.service_bearer("payment")
    by_payment = await world.client.get(
        f"/internal/clients/companies/{company['id']}", headers=invoicing
    )
    assert (by_payment.status_code, by_payment.json()) == (200, record)
    admin = fleet.service_bearer("admin")  # by owner: the admin service's lookup only
    by_owner = await world.client.get(
        f"/internal/clients/companies/by-owner/{owner.user_id}", headers=admin
    )
    assert (by_owner.status_code, by_owner.json()) == (200, record)

    world.problem(
        await world.client.get(f"/internal/clients/companies/{uuid.uuid4().hex}", headers=service),
        404,
        "not-found",
    )
    # The owner guard item shares the table; it is not a company (nor even an id).
    world.problem(
        await world.client.get(
            f"/internal/clients/companies/owner:{owner.user_id}", headers=service
        ),
        422,
        "invalid-input",
    )
    world.problem(
        await world.client.get(
            f"/internal/clients/companies/by-owner/{uuid.uuid4().hex}", headers=admin
        ),
        404,
        "company-not-registered",
    )
    for headers in ({}, owner.headers):
        world.problem(
            await world.client.get(f"/internal/clients/companies/{company['id']}", headers=headers),
            401,
            "unauthorized",
        )
