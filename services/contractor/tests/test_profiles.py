"""GET/PATCH /v1/contractors/me, who sees GET /v1/contractors/{id}, and the
internal contractor records."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_contractor.schemas import ContractorPatch
from mindlinks_dev.harness import Running
from mindlinks_dev.parties import add_member
from mindlinks_dev.problem import needs_a_user_token
from mindlinks_fleet.teams import COMPANY_HEADER

if TYPE_CHECKING:
    from conftest import World

ADDRESS = {
    "line1": "5 Rue de la Paix",
    "line2": None,
    "city": "Paris",
    "region": None,
    "postalCode": "75002",
    "country": "FR",
}


async def test_the_contractor_edits_their_profile(world: World) -> None:
    _, contractor, accepted = await world.onboarded()
    patch = {
        "name": "Grace B. Hopper",
        "phone": "+33612345678",
        "address": {**ADDRESS, "country": "fr"},
        "country": "fr",
        "taxId": "FR 12 345 678 901",
        "version": 1,
    }
    response = await world.contractor.patch(
        "/v1/contractors/me", headers=contractor.headers, json=patch
    )
    assert response.status_code == 200, response.text
    profile = response.json()
    assert profile == {
        **accepted["contractor"],
        "name": "Grace B. Hopper",
        "phone": "+33612345678",
        "address": ADDRESS,
        "country": "FR",
        "taxId": "FR 12 345 678 901",
        "updatedAt": profile["updatedAt"],
        "version": 2,
    }
    stale = await world.contractor.patch(
        "/v1/contractors/me", headers=contractor.headers, json={"phone": None, "version": 1}
    )
    world.problem(stale, 409, "stale-version")
    cleared = await world.contractor.patch(
        "/v1/contractors/me",
        headers=contractor.headers,
        json={"phone": None, "address": None, "version": 2},
    )
    assert (cleared.json()["phone"], cleared.json()["address"], cleared.json()["version"]) == (
        None,
        None,
        3,
    )
    me = await world.contractor.get("/v1/contractors/me", headers=contractor.headers)
    assert me.json() == cleared.json()


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "0612345678", "version": 1},
        {"name": None, "version": 1},
        {"name": "", "version": 1},
        {"country": "France", "version": 1},
        {"address": {"line1": "x"}, "version": 1},
        {"taxId": "$$$", "version": 1},
        {"email": "new@example.com", "version": 1},
        {"kycStatus": "verified", "version": 1},
        {"phone": "+33612345678"},
    ],
)
async def test_patch_refuses_bad_input(world: World, body: dict[str, Any]) -> None:
    _, contractor, _ = await world.onboarded()
    response = await world.contractor.patch(
        "/v1/contractors/me", headers=contractor.headers, json=body
    )
    world.problem(response, 422, "invalid-input")


async def test_me_needs_an_onboarded_contractor(fleet: Running, world: World) -> None:
    newcomer = await world.account()
    world.problem(
        await world.contractor.get("/v1/contractors/me", headers=newcomer.headers),
        404,
        "contractor-not-onboarded",
    )
    world.problem(
        await world.contractor.patch(
            "/v1/contractors/me", headers=newcomer.headers, json={"version": 1}
        ),
        404,
        "contractor-not-onboarded",
    )
    owner = await world.account("client")
    world.problem(
        await world.contractor.get("/v1/contractors/me", headers=owner.headers), 403, "forbidden"
    )
    kyc = fleet.service_bearer("kyc")
    await needs_a_user_token(world.contractor, "GET", "/v1/contractors/me", kyc)


async def test_who_sees_a_contractor(fleet: Running, world: World) -> None:
    owner, contractor, accepted = await world.onboarded()
    await world.contractor.patch(
        "/v1/contractors/me",
        headers=contractor.headers,
        json={"phone": "+447700900123", "taxId": "AB123456C", "version": 1},
    )
    contractor_id = accepted["contractor"]["id"]
    path = f"/v1/contractors/{contractor_id}"

    own = (await world.contractor.get(path, headers=contractor.headers)).json()
    assert (own["phone"], own["taxId"]) == ("+447700900123", "AB123456C")
    admin = await world.contractor.get(path, headers=fleet.bearer(uuid.uuid4().hex, "admin"))
    assert admin.json() == own
    engaged = await world.contractor.get(path, headers=owner.headers)
    assert engaged.status_code == 200, engaged.text
    assert engaged.json() == {
        **own,
        "phone": None,
        "address": None,
        "taxId": None,
        "kycReason": None,
    }

    other_owner = await world.company_owner()  # a company, but not engaged with them
    other_contractor = await world.account()
    for headers in (other_owner.headers, other_contractor.headers):
        world.problem(await world.contractor.get(path, headers=headers), 404, "not-found")
    companyless = await world.account("client")
    world.problem(
        await world.contractor.get(path, headers=companyless.headers), 409, "company-required"
    )
    world.problem(
        await world.contractor.get(
            f"/v1/contractors/{uuid.uuid4().hex}", headers=contractor.headers
        ),
        404,
        "not-found",
    )
    world.problem(await world.contractor.get(path), 401, "unauthorized")
    world.problem(
        await world.contractor.get(path, headers=fleet.service_bearer("contract")),
        401,
        "unauthorized",
    )


async def company_of(world: World, owner_headers: dict[str, str]) -> str:
    me = await world.client.get("/v1/clients/me", headers=owner_headers)
    assert me.status_code == 200, me.text
    return str(me.json()["id"])


@pytest.mark.parametrize("role", ["owner", "admin", "manager", "finance", "viewer"])
async def test_every_member_of_an_engaged_company_sees_the_contractor(
    fleet: Running, world: World, role: str
) -> None:
    """``contractors.read`` is every company role's: each sees the engaged
    contractor without private fields, as the owner does."""
    owner, _, accepted = await world.onboarded()
    path = f"/v1/contractors/{accepted['contractor']['id']}"
    company = await company_of(world, owner.headers)
    member = uuid.uuid4().hex
    await add_member(fleet, company, member, role, owner.user_id)
    seen = await world.contractor.get(path, headers=fleet.bearer(member, "client"))
    assert seen.status_code == 200, seen.text
    assert seen.json() == (await world.contractor.get(path, headers=owner.headers)).json()
    assert seen.json()["taxId"] is None


async def test_a_member_of_two_companies_names_the_one_it_acts_for(
    fleet: Running, world: World
) -> None:
    owner, _, accepted = await world.onboarded()
    path = f"/v1/contractors/{accepted['contractor']['id']}"
    engaged = await company_of(world, owner.headers)
    other_owner = await world.company_owner()
    other = await company_of(world, other_owner.headers)
    # The other company's owner is also a viewer of the engaged one.
    await add_member(fleet, engaged, other_owner.user_id, "viewer", owner.user_id)
    headers = other_owner.headers
    world.problem(await world.contractor.get(path, headers=headers), 400, "company-header-required")
    as_engaged = await world.contractor.get(path, headers={**headers, COMPANY_HEADER: engaged})
    assert as_engaged.status_code == 200, as_engaged.text
    as_other = await world.contractor.get(path, headers={**headers, COMPANY_HEADER: other})
    world.problem(as_other, 404, "not-found")
    # A company the caller is not a member of answers as an unknown one.
    unknown = {**headers, COMPANY_HEADER: uuid.uuid4().hex}
    world.problem(await world.contractor.get(path, headers=unknown), 404, "company-not-found")


async def test_internal_records(fleet: Running, world: World) -> None:
    owner, contractor, accepted = await world.onboarded()
    contractor_id = accepted["contractor"]["id"]
    record = {
        "id": contractor_id,
        "userId": contractor.user_id,
        "name": "Grace Hopper",
        "displayName": None,
        "verifiedLegalName": None,
        "email": contractor.email,
        "kycStatus": "not_started",
        "companyIds": [accepted["engagement"]["companyId"]],
        "address": None,
        "country": None,
        "taxId": None,
    }
    service = fleet.service_bearer("contract")
    by_id = await world.contractor.get(f"/internal/contractors/{contractor_id}", headers=service)
    assert (by_id.status_code, by_id.json()) == (200, record)
    by_user = await world.contractor.get(
        f"/internal/contractors/by-user/{contractor.user_id}", headers=service
    )
    assert (by_user.status_code, by_user.json()) == (200, record)
    # The contractor's own address and tax id: the invoices they issue print them.
    edited = await world.contractor.patch(
        "/v1/contractors/me",
        headers=contractor.headers,
        json={"address": ADDRESS, "country": "FR", "taxId": "FR 12 345 678 901", "version": 1},
    )
    assert edited.status_code == 200, edited.text
    by_payment = await world.contractor.get(
        f"/internal/contractors/by-user/{contractor.user_id}",
        headers=fleet.service_bearer("payment"),
    )
    assert by_payment.json() == {
        **record,
        "address": ADDRESS,
        "country": "FR",
        "taxId": "FR 12 345 678 901",
    }
    for path in (
        f"/internal/contractors/{uuid.uuid4().hex}",
        f"/internal/contractors/by-user/{owner.user_id}",
    ):
        world.problem(await world.contractor.get(path, headers=service), 404, "not-found")
    for headers in ({}, contractor.headers):
        world.problem(
            await world.contractor.get(f"/internal/contractors/{contractor_id}", headers=headers),
            401,
            "unauthorized",
        )


def test_the_published_patch_schema_offers_no_null_name() -> None:
    """The route refuses ``name: null``, so the OpenAPI must not offer it: a
    client generated from the spec (or schemathesis) would send it."""
    name = ContractorPatch.model_json_schema(by_alias=True)["properties"]["name"]
    assert "anyOf" not in name, name
    assert name.get("type") == "string", name
