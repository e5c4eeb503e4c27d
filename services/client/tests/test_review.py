"""The admin service's company routes: ``GET /internal/clients/companies``
and ``POST /internal/clients/companies/{id}/review``.

The session's tables are shared by every test, so lists are read to their
end and checked for what this test made, in order, never for exact contents."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev import lists
from mindlinks_dev.harness import Running
from mindlinks_dev.local_companies import local_company

if TYPE_CHECKING:
    from conftest import Account, World

REGISTERED_ADDRESS = {
    "line1": "1 Example Street",
    "line2": None,
    "city": "London",
    "region": None,
    "postalCode": "EC1A 1AA",
    "country": "GB",
}
"""The address given at registration, as peers read it."""

LIST = "/internal/clients/companies"


def review_path(company_id: str) -> str:
    return f"/internal/clients/companies/{company_id}/review"


async def held(world: World, mismatch: bool = True) -> tuple[Account, dict[str, Any]]:
    """An owner and their company held for review: a name the registry does
    not know it by, or a registry that could not answer."""
    owner = await world.account()
    if mismatch:
        # A fresh number, so that approving it does not meet another test's company.
        number = local_company().company_number
        response = await world.register(owner, number, "Totally Different Ltd")
    else:
        response = await world.register(owner, "99999999", "Anything Ltd")
    assert response.status_code == 201, response.text
    company: dict[str, Any] = response.json()
    assert company["status"] == "pending_review"
    return owner, company


async def read_all(fleet: Running, limit: int, **params: str) -> list[dict[str, Any]]:
    """Every page of the list, following ``nextCursor``."""
    client, admin = fleet.client("client"), fleet.service_bearer("admin")
    return await lists.read_all(client, LIST, admin, limit, **params)


async def review(fleet: Running, company_id: str, **body: Any) -> Any:
    return await fleet.client("client").post(
        review_path(company_id),
        headers=fleet.service_bearer("admin"),
        json={"decidedBy": "admin-1", **body},
    )


async def reviewed(fleet: Running, company_id: str) -> list[dict[str, Any]]:
    return await fleet.published("client", "company.reviewed", companyId=company_id)


async def test_held_companies_newest_first(fleet: Running, world: World) -> None:
    made = [(await held(world, mismatch=i != 1))[1] for i in range(3)]
    active = await world.company_owner()
    items = await read_all(fleet, 2, status="pending_review")
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)), "a company on two pages"
    assert {item["status"] for item in items} == {"pending_review"}
    created = [item["createdAt"] for item in items]
    assert created == sorted(created, reverse=True)
    assert [i for i in ids if i in {c["id"] for c in made}] == [c["id"] for c in reversed(made)]
    # Each as the internal company record, with the registry's answer and the review.
    outage = next(item for item in items if item["id"] == made[1]["id"])
    assert outage == {
        "id": made[1]["id"],
        "legalName": "Anything Ltd",
        "tradingName": None,
        "status": "pending_review",
        "ownerUserId": made[1]["ownerUserId"],
        "jurisdictionCode": "gb",
        "companyNumber": "99999999",
        "nameMismatch": False,
        "address": REGISTERED_ADDRESS,
        "registry": {
            "checkedAt": made[1]["createdAt"],
            "reachable": False,
            "name": None,
            "status": None,
            "registeredAddress": None,
        },
        "holdReasons": ["registry-unreachable"],
        "authority": {"check": "not-checked", "officer": None, "position": None},
        "conflictsWith": None,
        "review": None,
        "createdAt": made[1]["createdAt"],
    }
    active_company = await world.client.get("/v1/clients/me", headers=active.headers)
    assert active_company.json()["id"] not in ids


async def test_every_company(fleet: Running, world: World) -> None:
    _, pending = await held(world)
    owner = await world.company_owner()
    active = (await world.client.get("/v1/clients/me", headers=owner.headers)).json()
    items = await read_all(fleet, 3)
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)), "a company on two pages"
    assert {pending["id"], active["id"]} <= set(ids)
    # The owner guards share the table; they are not companies.
    assert not any(i.startswith("owner:") for i in ids)


async def test_approve(fleet: Running, world: World) -> None:
    owner, company = await held(world)
    response = await review(fleet, company["id"], decision="approved")
    assert response.status_code == 200, response.text
    approved = response.json()
    assert approved["status"] == "active"
    assert approved["review"] == {
        "decision": "approved",
        "reason": None,
        "decidedBy": "admin-1",
        "decidedAt": approved["review"]["decidedAt"],
    }
    assert approved["review"]["decidedAt"] >= company["createdAt"]
    me = (await world.client.get("/v1/clients/me", headers=owner.headers)).json()
    assert (me["status"], me["version"]) == ("active", 2)
    assert await reviewed(fleet, company["id"]) == [
        {
            "companyId": company["id"],
            "ownerUserId": owner.user_id,
            "legalName": "Totally Different Ltd",
            "decision": "approved",
            "reason": None,
        }
    ]
    # A retry answers the same company and publishes nothing more.
    again = await review(fleet, company["id"], decision="approved", reason="checked by phone")
    assert (again.status_code, again.json()) == (200, approved)
    assert len(await reviewed(fleet, company["id"])) == 1
    # The other decision is not a retry.
    world.problem(
        await review(fleet, company["id"], decision="rejected", reason="no"),
        409,
        "not-pending-review",
    )
    # Approved, the company may invite.
    invited = await world.invite(owner, f"c{uuid.uuid4().hex[:12]}@example.com")
    assert invited.status_code == 201, invited.text


async def test_reject(fleet: Running, world: World) -> None:
    owner, company = await held(world, mismatch=False)
    response = await review(fleet, company["id"], decision="rejected", reason="  Not a company  ")
    assert response.status_code == 200, response.text
    rejected = response.json()
    assert rejected["status"] == "rejected"
    assert (rejected["review"]["decision"], rejected["review"]["reason"]) == (
        "rejected",
        "Not a company",
    )
    [event] = await reviewed(fleet, company["id"])
    assert (event["decision"], event["reason"]) == ("rejected", "Not a company")
    # Again, even with other words: the first decision stands, nothing is published.
    again = await review(fleet, company["id"], decision="rejected", reason="Still not")
    assert (again.status_code, again.json()) == (200, rejected)
    assert len(await reviewed(fleet, company["id"])) == 1
    world.problem(
        await review(fleet, company["id"], decision="approved"), 409, "not-pending-review"
    )
    # Rejected, the company cannot invite.
    world.problem(
        await world.invite(owner, f"c{uuid.uuid4().hex[:12]}@example.com"),
        409,
        "company-not-active",
    )


async def test_a_company_never_held_is_not_reviewed(fleet: Running, world: World) -> None:
    owner = await world.company_owner()
    company = (await world.client.get("/v1/clients/me", headers=owner.headers)).json()
    for body in ({"decision": "approved"}, {"decision": "rejected", "reason": "no"}):
        world.problem(await review(fleet, company["id"], **body), 409, "not-pending-review")
    assert await reviewed(fleet, company["id"]) == []
    world.problem(await review(fleet, uuid.uuid4().hex, decision="approved"), 404, "not-found")
    # The owner guard shares the table; it is not a company (nor even an id).
    world.problem(
        await review(fleet, f"owner:{owner.user_id}", decision="approved"), 422, "invalid-input"
    )


async def test_concurrent_decisions(fleet: Running, world: World) -> None:
    _, same = await held(world)
    first, second = await asyncio.gather(
        review(fleet, same["id"], decision="approved"),
        review(fleet, same["id"], decision="approved"),
    )
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == second.json()
    assert len(await reviewed(fleet, same["id"])) == 1

    _, contested = await held(world)
    answers = await asyncio.gather(
        review(fleet, contested["id"], decision="approved"),
        review(fleet, contested["id"], decision="rejected", reason="no"),
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    [event] = await reviewed(fleet, contested["id"])
    winner = next(a for a in answers if a.status_code == 200).json()
    assert event["decision"] == winner["review"]["decision"]


async def test_the_owners_stale_edit_does_not_undo_a_review(fleet: Running, world: World) -> None:
    owner, company = await held(world)
    assert (await review(fleet, company["id"], decision="approved")).status_code == 200
    stale = await world.client.patch(
        "/v1/clients/me", headers=owner.headers, json={"tradingName": "Acme", "version": 1}
    )
    world.problem(stale, 409, "stale-version")
    fresh = await world.client.patch(
        "/v1/clients/me", headers=owner.headers, json={"tradingName": "Acme", "version": 2}
    )
    assert fresh.status_code == 200, fresh.text
    [item] = [i for i in await read_all(fleet, 100, status="active") if i["id"] == company["id"]]
    assert (item["status"], item["tradingName"], item["review"]["decision"]) == (
        "active",
        "Acme",
        "approved",
    )


async def test_only_the_admin_service(fleet: Running, world: World) -> None:
    owner, company = await held(world)
    body = {"decision": "approved", "decidedBy": "admin-1"}
    routes = (("GET", LIST, None), ("POST", review_path(company["id"]), body))
    for method, path, json in routes:
        other = fleet.service_bearer("contract")
        world.problem(
            await world.client.request(method, path, headers=other, json=json), 403, "forbidden"
        )
        # User tokens, even an admin's, are not service tokens.
        for headers in ({}, owner.headers, fleet.bearer("admin-1", "admin")):
            world.problem(
                await world.client.request(method, path, headers=headers, json=json),
                401,
                "unauthorized",
            )
    assert (await world.client.get("/v1/clients/me", headers=owner.headers)).json()[
        "status"
    ] == "pending_review"


@pytest.mark.parametrize(
    "body",
    [
        {"decision": "maybe", "decidedBy": "admin-1"},
        {"decision": "rejected", "decidedBy": "admin-1"},
        {"decision": "rejected", "reason": "   ", "decidedBy": "admin-1"},
        {"decision": "rejected", "reason": "x" * 501, "decidedBy": "admin-1"},
        {"decision": "approved"},
        {"decision": "approved", "decidedBy": ""},
        {"decision": "approved", "decidedBy": "admin-1", "status": "active"},
    ],
)
async def test_review_refuses_bad_input(fleet: Running, world: World, body: dict[str, Any]) -> None:
    _, company = await held(world)
    response = await fleet.client("client").post(
        review_path(company["id"]), headers=fleet.service_bearer("admin"), json=body
    )
    world.problem(response, 422, "invalid-input")
    assert await reviewed(fleet, company["id"]) == []


async def test_list_refuses_bad_input(fleet: Running, world: World) -> None:
    admin = fleet.service_bearer("admin")
    for params in ({"status": "approved"}, {"limit": "0"}, {"limit": "101"}):
        world.problem(
            await world.client.get(LIST, headers=admin, params=params), 422, "invalid-input"
        )
    for _ in range(2):
        await held(world)
    first = await world.client.get(
        LIST, headers=admin, params={"status": "pending_review", "limit": "1"}
    )
    cursor = first.json()["nextCursor"]
    assert cursor
    # A cursor belongs to its list.
    for params in ({"status": "active", "cursor": cursor}, {"cursor": cursor}):
        world.problem(
            await world.client.get(LIST, headers=admin, params=params), 422, "invalid-cursor"
        )
