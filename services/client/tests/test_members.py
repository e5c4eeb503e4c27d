"""A company's team: members listed, re-roled, removed or leaving under the
rules (own role not raised, owner role reserved, last owner), the company
header, the audit of changes, and the company routes by role."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mindlinks_client.teams import LastOwner
from mindlinks_dev.harness import Running
from mindlinks_dev.people import new_email
from mindlinks_fleet.teams import CompanyRole

if TYPE_CHECKING:
    from conftest import Account, World


async def members(world: World, actor: Account) -> dict[str, dict[str, Any]]:
    response = await world.client.get(
        "/v1/clients/me/members", headers=actor.headers, params={"limit": 100}
    )
    assert response.status_code == 200, response.text
    return {m["userId"]: m for m in response.json()["items"]}


async def set_role(
    world: World, actor: Account, user_id: str, role: str, version: int | None = None
) -> httpx.Response:
    if version is None:
        version = (await members(world, actor))[user_id]["version"]
    return await world.client.patch(
        f"/v1/clients/me/members/{user_id}",
        headers=actor.headers,
        json={"role": role, "version": version},
    )


async def remove(world: World, actor: Account, user_id: str) -> httpx.Response:
    return await world.client.delete(f"/v1/clients/me/members/{user_id}", headers=actor.headers)


async def test_members_are_listed_with_their_account(world: World) -> None:
    owner = await world.company_owner(name="Ada Lovelace")
    viewer = await world.member(owner, "viewer", name="Grace Hopper")
    listed = await members(world, viewer)
    assert listed[owner.user_id] == {
        "userId": owner.user_id,
        "email": owner.email,
        "name": "Ada Lovelace",
        "role": "owner",
        "addedAt": listed[owner.user_id]["addedAt"],
        "version": 1,
    }
    assert listed[viewer.user_id]["role"] == "viewer"
    assert listed[viewer.user_id]["email"] == viewer.email
    page = await world.client.get(
        "/v1/clients/me/members", headers=owner.headers, params={"limit": 1}
    )
    assert len(page.json()["items"]) == 1
    cursor = page.json()["nextCursor"]
    rest = await world.client.get(
        "/v1/clients/me/members", headers=owner.headers, params={"limit": 1, "cursor": cursor}
    )
    assert rest.status_code == 200
    assert rest.json()["items"][0]["userId"] != page.json()["items"][0]["userId"]
    world.problem(
        await world.client.get(
            "/v1/clients/me/members", headers=owner.headers, params={"limit": 0}
        ),
        422,
        "invalid-input",
    )


async def test_roles_change_under_the_rules(fleet: Running, world: World) -> None:
    owner = await world.company_owner()
    admin = await world.member(owner, "admin")
    viewer = await world.member(owner, "viewer")

    changed = await set_role(world, owner, viewer.user_id, "finance")
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "finance"
    assert changed.json()["version"] == 2
    world.problem(await set_role(world, owner, viewer.user_id, "manager", version=1), 409)
    # Nobody raises their own role; an admin neither grants nor takes owner.
    world.problem(await set_role(world, admin, admin.user_id, "owner"), 403, "own-role-not-raised")
    world.problem(await set_role(world, admin, viewer.user_id, "owner"), 403, "owner-role-reserved")
    world.problem(await set_role(world, admin, owner.user_id, "viewer"), 403, "owner-role-reserved")
    assert (await set_role(world, admin, viewer.user_id, "admin")).status_code == 200
    # Lowering one's own role is fine.
    assert (await set_role(world, admin, admin.user_id, "manager")).status_code == 200
    await fleet.deliver()
    world.problem(
        await set_role(world, admin, viewer.user_id, "viewer"), 403, "company-role-not-allowed"
    )
    # The last owner stays one; with a second owner, the first may step down.
    world.problem(await set_role(world, owner, owner.user_id, "admin"), 409, "last-owner")
    assert (await set_role(world, owner, viewer.user_id, "owner")).status_code == 200
    assert (await set_role(world, owner, owner.user_id, "admin")).status_code == 200
    await fleet.deliver()
    listed = await members(world, viewer)
    assert listed[owner.user_id]["role"] == "admin"
    assert listed[viewer.user_id]["role"] == "owner"

    [event] = await world.fleet.published(
        "client", "company.member-role-changed", userId=owner.user_id
    )
    assert event["role"] == "admin"
    assert event["previousRole"] == "owner"
    assert event["actorUserId"] == owner.user_id
    # company.member-role-changed → the member is told their new role.
    mails = [
        m
        for m in await world.mailbox(admin.email)
        if m["template"] == "company.member-role-changed"
    ]
    assert len(mails) == 1  # admin → manager, their own step down


async def test_role_changes_refuse_bad_input_and_strangers(world: World) -> None:
    owner = await world.company_owner()
    viewer = await world.member(owner, "viewer")
    other = await world.company_owner()
    world.problem(await set_role(world, other, viewer.user_id, "admin", 1), 404, "member-not-found")
    for body in (
        {"role": "boss", "version": 1},
        {"role": "admin"},
        {"role": "admin", "version": 0},
    ):
        world.problem(
            await world.client.patch(
                f"/v1/clients/me/members/{viewer.user_id}", headers=owner.headers, json=body
            ),
            422,
            "invalid-input",
        )
    world.problem(
        await set_role(world, viewer, owner.user_id, "viewer", 1), 403, "company-role-not-allowed"
    )
    for role in ("manager", "finance"):
        member = await world.member(owner, role)
        world.problem(
            await set_role(world, member, viewer.user_id, "admin", 1),
            403,
            "company-role-not-allowed",
        )


async def test_removal_and_leaving(fleet: Running, world: World) -> None:
    owner = await world.company_owner()
    company_name = await world.company_name(owner)
    admin = await world.member(owner, "admin")
    viewer = await world.member(owner, "viewer")
    manager = await world.member(owner, "manager")

    world.problem(await remove(world, viewer, manager.user_id), 403, "company-role-not-allowed")
    world.problem(await remove(world, admin, owner.user_id), 403, "owner-role-reserved")
    world.problem(await remove(world, owner, owner.user_id), 409, "last-owner")
    other = await world.company_owner()
    world.problem(await remove(world, other, viewer.user_id), 404, "member-not-found")

    assert (await remove(world, admin, manager.user_id)).status_code == 204
    world.problem(await remove(world, admin, manager.user_id), 404, "member-not-found")
    # The removed member's access ends once the event has travelled.
    await fleet.deliver()
    world.problem(
        await world.client.get("/v1/clients/me", headers=manager.headers), 409, "company-required"
    )
    [mail] = [
        m for m in await world.mailbox(manager.email) if m["template"] == "company.member-removed"
    ]
    assert company_name in mail["subject"]
    # Anyone may leave.
    assert (await remove(world, viewer, viewer.user_id)).status_code == 204
    await fleet.deliver()
    assert (await world.client.get("/v1/clients/memberships", headers=viewer.headers)).json() == {
        "items": []
    }
    listed = await members(world, owner)
    assert set(listed) == {owner.user_id, admin.user_id}
    [left] = await world.fleet.published("client", "company.member-removed", userId=viewer.user_id)
    assert left["role"] is None
    assert left["previousRole"] == "viewer"
    assert left["actorUserId"] == viewer.user_id


async def test_the_company_header_picks_among_memberships(world: World) -> None:
    first = await world.company_owner()
    first_id = await world.company_id(first)
    second = await world.company_owner()
    second_id = await world.company_id(second)
    # One account, a member of both.
    both = await world.member(first, "viewer")
    invitation = await world.invite_member(second, both.email, "admin")
    assert invitation.status_code == 201, invitation.text
    accepted = await world.accept(both, await world.member_token(both.email))
    assert accepted.status_code == 200, accepted.text

    world.problem(
        await world.client.get("/v1/clients/me", headers=both.headers),
        400,
        "company-header-required",
    )
    for company_id in (first_id, second_id):
        me = await world.client.get("/v1/clients/me", headers=world.acting(both, company_id))
        assert me.status_code == 200
        assert me.json()["id"] == company_id
    stranger_company = await world.company_id(await world.company_owner())
    world.problem(
        await world.client.get("/v1/clients/me", headers=world.acting(both, stranger_company)),
        404,
        "company-not-found",
    )
    # The viewer of the first company may not invite there; the admin of the second may.
    world.problem(
        await world.invite_member(both, new_email(), "viewer", first_id),
        403,
        "company-role-not-allowed",
    )
    assert (await world.invite_member(both, new_email(), "viewer", second_id)).status_code == 201
    memberships = await world.client.get("/v1/clients/memberships", headers=both.headers)
    assert sorted((m["companyId"], m["role"]) for m in memberships.json()["items"]) == sorted(
        [(first_id, "viewer"), (second_id, "admin")]
    )
    contractor = await world.account("contractor")
    world.problem(
        await world.client.get("/v1/clients/memberships", headers=contractor.headers),
        403,
        "forbidden",
    )


async def test_every_change_is_audited(world: World) -> None:
    owner = await world.company_owner()
    viewer = await world.member(owner, "viewer")
    assert (await set_role(world, owner, viewer.user_id, "finance")).status_code == 200
    assert (await remove(world, owner, viewer.user_id)).status_code == 204
    response = await world.client.get("/v1/clients/me/member-changes", headers=owner.headers)
    assert response.status_code == 200, response.text
    changes = response.json()["items"]
    assert [
        (c["change"], c["userId"], c["role"], c["previousRole"], c["actorUserId"]) for c in changes
    ] == [
        ("removed", viewer.user_id, None, "finance", owner.user_id),
        ("role-changed", viewer.user_id, "finance", "viewer", owner.user_id),
        ("added", viewer.user_id, "viewer", None, viewer.user_id),
        ("added", owner.user_id, "owner", None, owner.user_id),
    ]
    assert changes[0]["at"] >= changes[1]["at"]
    page = await world.client.get(
        "/v1/clients/me/member-changes", headers=owner.headers, params={"limit": 2}
    )
    assert len(page.json()["items"]) == 2
    assert page.json()["nextCursor"]
    other = await world.company_owner()
    theirs = await world.client.get("/v1/clients/me/member-changes", headers=other.headers)
    assert [c["userId"] for c in theirs.json()["items"]] == [other.user_id]
    world.problem(
        await world.client.get(
            "/v1/clients/me/member-changes",
            headers=other.headers,
            params={"cursor": page.json()["nextCursor"]},
        ),
        422,
    )


async def test_the_company_routes_follow_the_role(world: World) -> None:
    owner = await world.company_owner()
    team = {
        role: await world.member(owner, role) for role in ("admin", "manager", "finance", "viewer")
    }
    version = (await world.client.get("/v1/clients/me", headers=owner.headers)).json()["version"]
    for role, member in team.items():
        me = await world.client.get("/v1/clients/me", headers=member.headers)
        assert me.status_code == 200, (role, me.text)
        patch = await world.client.patch(
            "/v1/clients/me", headers=member.headers, json={"tradingName": role, "version": version}
        )
        if role == "admin":
            assert patch.status_code == 200, patch.text
            version = patch.json()["version"]
        else:
            world.problem(patch, 403, "company-role-not-allowed")
        invite = await world.invite(member, new_email())
        if role in ("admin", "manager"):
            assert invite.status_code == 201, (role, invite.text)
            revoked = await world.client.delete(
                f"/v1/clients/invitations/{invite.json()['id']}", headers=member.headers
            )
            assert revoked.status_code == 204
        else:
            world.problem(invite, 403, "company-role-not-allowed")
        for path in (
            "/v1/clients/invitations",
            "/v1/clients/contractors",
            "/v1/clients/me/members",
        ):
            assert (await world.client.get(path, headers=member.headers)).status_code == 200


async def test_two_owners_demoting_each_other_at_once_leave_one_owner(
    fleet: Running, world: World
) -> None:
    first = await world.company_owner()
    company_id = await world.company_id(first)
    second = await world.member(first, "owner")
    deps = fleet.deps("client")
    runtime = fleet.runtime("client")
    # Both read the team with two owners, then commit one after the other.
    one, other = runtime.uow(), runtime.uow()
    await deps.members.change_role(
        company_id, first.user_id, second.user_id, CompanyRole.ADMIN, 1, one
    )
    await deps.members.change_role(
        company_id, second.user_id, first.user_id, CompanyRole.ADMIN, 1, other
    )
    await one.commit()
    with pytest.raises(LastOwner):
        await other.commit()
    listed = await members(world, first)
    assert listed[first.user_id]["role"] == "owner"
    assert listed[second.user_id]["role"] == "admin"
    # The same for two owners removing each other.
    third = await world.member(first, "owner")
    one, other = runtime.uow(), runtime.uow()
    await deps.members.remove(company_id, first.user_id, third.user_id, one)
    await deps.members.remove(company_id, third.user_id, first.user_id, other)
    await one.commit()
    with pytest.raises(LastOwner):
        await other.commit()
    assert set(await members(world, first)) == {first.user_id, second.user_id}
