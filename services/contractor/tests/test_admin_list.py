"""``GET /internal/contractors``: the admin service's contractor list.

The session's tables are shared by every test, so lists are read to their
end and checked for what this test made, in order, never for exact contents."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from mindlinks_dev import lists
from mindlinks_dev.harness import Running
from mindlinks_fleet.events import KycDecided

if TYPE_CHECKING:
    from conftest import Account, World

LIST = "/internal/contractors"


async def contractors(world: World, count: int) -> list[tuple[Account, dict[str, Any]]]:
    """``count`` contractors onboarded by one company, oldest first: (account,
    the profile)."""
    owner = await world.company_owner()
    made = []
    for _ in range(count):
        account = await world.account("contractor")
        _, token = await world.invitation(owner, account.email)
        accepted = await world.accept(account, token)
        assert accepted.status_code == 200, accepted.text
        made.append((account, accepted.json()["contractor"]))
    return made


async def verify(world: World, account: Account, contractor_id: str) -> None:
    await world.emit(
        "kyc.verified",
        KycDecided(
            session_id=uuid.uuid4().hex,
            contractor_id=contractor_id,
            user_id=account.user_id,
            provider="veriff",
        ),
    )


async def read_all(fleet: Running, limit: int, **params: str) -> list[dict[str, Any]]:
    """Every page of the list, following ``nextCursor``."""
    contractors, admin = fleet.client("contractor"), fleet.service_bearer("admin")
    return await lists.read_all(contractors, LIST, admin, limit, **params)


async def test_by_kyc_status_newest_first(fleet: Running, world: World) -> None:
    made = await contractors(world, 4)
    for account, profile in made[:3]:
        await verify(world, account, profile["id"])
    items = await read_all(fleet, 2, kycStatus="verified")
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)), "a contractor on two pages"
    assert {item["kycStatus"] for item in items} == {"verified"}
    created = [item["createdAt"] for item in items]
    assert created == sorted(created, reverse=True)
    verified = [profile["id"] for _, profile in made[:3]]
    assert [i for i in ids if i in verified] == list(reversed(verified))
    assert made[3][1]["id"] not in ids

    account, profile = made[0]
    [item] = [item for item in items if item["id"] == profile["id"]]
    record = await fleet.client("contractor").get(
        f"{LIST}/{profile['id']}", headers=fleet.service_bearer("admin")
    )
    # The internal contractor record, plus when the contractor joined.
    assert item == {**record.json(), "createdAt": profile["createdAt"]}
    assert (item["userId"], item["email"], len(item["companyIds"])) == (
        account.user_id,
        account.email,
        1,
    )

    not_started = await read_all(fleet, 50, kycStatus="not_started")
    assert made[3][1]["id"] in {item["id"] for item in not_started}


async def test_every_contractor(fleet: Running, world: World) -> None:
    made = await contractors(world, 2)
    await verify(world, made[0][0], made[0][1]["id"])
    items = await read_all(fleet, 3)
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)), "a contractor on two pages"
    statuses = {item["id"]: item["kycStatus"] for item in items}
    assert statuses[made[0][1]["id"]] == "verified"
    assert statuses[made[1][1]["id"]] == "not_started"


async def test_only_the_admin_service(fleet: Running, world: World) -> None:
    [(account, _)] = await contractors(world, 1)
    client = fleet.client("contractor")
    world.problem(await client.get(LIST, headers=fleet.service_bearer("payment")), 403, "forbidden")
    # User tokens, even an admin's, are not service tokens.
    for headers in ({}, account.headers, fleet.bearer("admin-1", "admin")):
        world.problem(await client.get(LIST, headers=headers), 401, "unauthorized")


async def test_bad_input(fleet: Running, world: World) -> None:
    client = fleet.client("contractor")
    admin = fleet.service_bearer("admin")
    for params in ({"kycStatus": "pending"}, {"limit": "0"}, {"limit": "101"}):
        world.problem(await client.get(LIST, headers=admin, params=params), 422, "invalid-input")
    await contractors(world, 2)
    first = await client.get(LIST, headers=admin, params={"kycStatus": "not_started", "limit": "1"})
    cursor = first.json()["nextCursor"]
    assert cursor
    # A cursor belongs to its list.
    for params in ({"kycStatus": "verified", "cursor": cursor}, {"cursor": cursor}):
        world.problem(await client.get(LIST, headers=admin, params=params), 422, "invalid-cursor")
