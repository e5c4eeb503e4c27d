"""Member invitations: mailed through notification with a single-use token,
listed, revoked, accepted once by the account the email names; the
operator's backfill of owners for companies registered before teams."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

import pytest

from mindlinks_dev import people
from mindlinks_dev.harness import Running
from mindlinks_dev.people import new_email
from mindlinks_kit.dynamo import StaleVersion, to_wire, values

if TYPE_CHECKING:
    from conftest import Account, World


async def invitee(world: World, email: str, name: str = "Grace Hopper") -> Account:
    account = await people.register(world.fleet, "client", name, email=email)
    await world.fleet.deliver()
    return account


async def test_a_member_is_invited_by_mail_and_joins(fleet: Running, world: World) -> None:
    owner = await world.company_owner(name="Ada Lovelace")
    company_id = await world.company_id(owner)
    company_name = await world.company_name(owner)
    email = new_email()
    response = await world.invite_member(owner, email.upper(), "manager")
    assert response.status_code == 201, response.text
    invitation = response.json()
    assert invitation == {
        "id": invitation["id"],
        "email": email,
        "role": "manager",
        "status": "pending",
        "invitedByUserId": owner.user_id,
        "expiresAt": invitation["expiresAt"],
        "createdAt": invitation["createdAt"],
        "acceptedAt": None,
        "revokedAt": None,
    }
    assert invitation["expiresAt"] > invitation["createdAt"]

    [mail] = await world.mailbox(email)
    assert mail["template"] == "client.member-invitation"
    token = mail["data"]["token"]
    assert mail["data"]["companyName"] == company_name
    assert mail["data"]["inviterName"] == "Ada Lovelace"
    assert mail["data"]["role"] == "manager"
    url = urlparse(mail["data"]["inviteUrl"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == "http://localhost:8080/join-company"
    assert parse_qs(url.query) == {"token": [token]}
    assert token in mail["text"]
    stored = await fleet.runtime("client").table("member-invitations").get({"id": invitation["id"]})
    assert stored is not None
    assert token not in str(stored)

    account = await invitee(world, email)
    joined = await world.accept(account, token)
    assert joined.status_code == 200, joined.text
    assert joined.json() == {
        "companyId": company_id,
        "companyName": company_name,
        "role": "manager",
    }
    again = await world.accept(account, token)  # a retry answers the same
    assert again.status_code == 200, again.text
    assert again.json() == joined.json()

    [added] = [
        e for e in await world.published("company.member-added") if e["userId"] == account.user_id
    ]
    assert added == {
        "companyId": company_id,
        "companyName": company_name,
        "userId": account.user_id,
        "role": "manager",
        "previousRole": None,
        "actorUserId": account.user_id,
    }
    memberships = await world.client.get("/v1/clients/memberships", headers=account.headers)
    assert memberships.json() == {
        "items": [{"companyId": company_id, "companyName": company_name, "role": "manager"}]
    }
    me = await world.client.get("/v1/clients/me", headers=account.headers)
    assert me.status_code == 200
    assert me.json()["id"] == company_id

    listed = await world.client.get("/v1/clients/me/member-invitations", headers=owner.headers)
    assert listed.status_code == 200
    [shown] = [i for i in listed.json()["items"] if i["id"] == invitation["id"]]
    assert shown["status"] == "accepted"
    assert shown["acceptedAt"] is not None

    # company.member-added → the new member hears which company, in which role.
    await fleet.deliver()
    [welcome] = [m for m in await world.mailbox(email) if m["template"] == "company.member-added"]
    assert company_name in welcome["subject"]
    assert "manager" in welcome["text"]
    # The owner's own registration mails no "you joined".
    assert not [
        m for m in await world.mailbox(owner.email) if m["template"] == "company.member-added"
    ]


async def test_who_may_invite_whom(world: World) -> None:
    owner = await world.company_owner()
    admin = await world.member(owner, "admin")
    assert (await world.invite_member(admin, new_email(), "admin")).status_code == 201
    world.problem(
        await world.invite_member(admin, new_email(), "owner"), 403, "owner-role-reserved"
    )
    assert (await world.invite_member(owner, new_email(), "owner")).status_code == 201
    for role in ("manager", "finance", "viewer"):
        member = await world.member(owner, role)
        world.problem(
            await world.invite_member(member, new_email(), "viewer"),
            403,
            "company-role-not-allowed",
        )
        listed = await world.client.get("/v1/clients/me/member-invitations", headers=member.headers)
        assert listed.status_code == 200  # members.read: everyone
    contractor = await world.account("contractor")
    world.problem(await world.invite_member(contractor, new_email(), "viewer"), 403, "forbidden")
    stranger = await world.account()
    world.problem(
        await world.invite_member(stranger, new_email(), "viewer"), 409, "company-required"
    )


async def test_invite_refuses_bad_input(world: World) -> None:
    owner = await world.company_owner()
    for body in (
        {"email": "not-an-email", "role": "viewer"},
        {"email": new_email(), "role": "boss"},
        {"email": new_email()},
        {"role": "viewer"},
        {"email": new_email(), "role": "viewer", "x": 1},
    ):
        response = await world.client.post(
            "/v1/clients/me/member-invitations", headers=owner.headers, json=body
        )
        assert response.headers["content-type"].startswith("application/problem+json")
        world.problem(response, 422, "invalid-input")
    for token in ("short", "x" * 300):
        world.problem(await world.accept(owner, token), 422, "invalid-input")


async def test_one_pending_invitation_per_address_and_none_for_a_member(world: World) -> None:
    owner = await world.company_owner()
    email = new_email()
    first = await world.invite_member(owner, email, "viewer")
    assert first.status_code == 201
    world.problem(
        await world.invite_member(owner, email, "admin"), 409, "member-invitation-pending"
    )
    assert len(await world.mailbox(email)) == 1
    other = await world.company_owner()
    assert (await world.invite_member(other, email, "viewer")).status_code == 201
    # Revoked, the address is free again.
    revoked = await world.client.delete(
        f"/v1/clients/me/member-invitations/{first.json()['id']}", headers=owner.headers
    )
    assert revoked.status_code == 204
    assert (await world.invite_member(owner, email, "viewer")).status_code == 201
    # A member's own address, or another member's: already a member.
    world.problem(await world.invite_member(owner, owner.email, "viewer"), 409, "already-member")
    member = await world.member(owner, "viewer")
    world.problem(await world.invite_member(owner, member.email, "admin"), 409, "already-member")


async def test_accepting_is_refused_for_the_wrong_person_or_token(
    fleet: Running, world: World
) -> None:
    owner = await world.company_owner()
    email = new_email()
    invitation = (await world.invite_member(owner, email, "viewer")).json()
    token = await world.member_token(email)
    someone_else = await world.account()
    world.problem(await world.accept(someone_else, token), 403, "invitation-email-mismatch")
    world.problem(await world.accept(someone_else, "y" * 43), 404, "invitation-not-found")
    contractor = await people.register(fleet, "contractor", "Con Tractor", email=new_email())
    world.problem(await world.accept(contractor, token), 403, "forbidden")

    # Used: accepted by its addressee, it works for nobody else.
    account = await invitee(world, email)
    assert (await world.accept(account, token)).status_code == 200
    world.problem(await world.accept(someone_else, token), 409, "invitation-used")
    # An accepted invitation is no longer revocable.
    world.problem(
        await world.client.delete(
            f"/v1/clients/me/member-invitations/{invitation['id']}", headers=owner.headers
        ),
        409,
        "invitation-already-accepted",
    )

    # Revoked.
    revoked_email = new_email()
    revoked = (await world.invite_member(owner, revoked_email, "viewer")).json()
    revoked_token = await world.member_token(revoked_email)
    path = f"/v1/clients/me/member-invitations/{revoked['id']}"
    assert (await world.client.delete(path, headers=owner.headers)).status_code == 204
    assert (await world.client.delete(path, headers=owner.headers)).status_code == 204
    world.problem(
        await world.accept(await invitee(world, revoked_email), revoked_token),
        409,
        "invitation-revoked",
    )

    # Expired.
    late_email = new_email()
    late = (await world.invite_member(owner, late_email, "viewer")).json()
    late_token = await world.member_token(late_email)
    await (
        fleet.runtime("client")
        .table("member-invitations")
        .update(
            {"id": late["id"]}, "SET expiresAt = :past", values=values(past="2020-01-01T00:00:00Z")
        )
    )
    world.problem(
        await world.accept(await invitee(world, late_email), late_token), 410, "invitation-expired"
    )
    listed = await world.client.get("/v1/clients/me/member-invitations", headers=owner.headers)
    [shown] = [i for i in listed.json()["items"] if i["id"] == late["id"]]
    assert shown["status"] == "expired"


async def test_another_companys_invitation_is_not_found(world: World) -> None:
    owner = await world.company_owner()
    other = await world.company_owner()
    theirs = (await world.invite_member(other, new_email(), "viewer")).json()
    path = f"/v1/clients/me/member-invitations/{theirs['id']}"
    world.problem(
        await world.client.delete(path, headers=owner.headers), 404, "member-invitation-not-found"
    )
    viewer = await world.member(other, "viewer")
    world.problem(
        await world.client.delete(path, headers=viewer.headers), 403, "company-role-not-allowed"
    )
    listed = await world.client.get("/v1/clients/me/member-invitations", headers=owner.headers)
    assert theirs["id"] not in {i["id"] for i in listed.json()["items"]}


async def test_a_concurrent_double_accept_adds_the_member_once(
    fleet: Running, world: World
) -> None:
    owner = await world.company_owner()
    email = new_email()
    assert (await world.invite_member(owner, email, "finance")).status_code == 201
    token = await world.member_token(email)
    account = await invitee(world, email)
    # Two acceptances that both read the invitation pending: one commits, the
    # other's transaction fails as a whole (the invitation's condition).
    deps = fleet.deps("client")
    first_uow, second_uow = fleet.runtime("client").uow(), fleet.runtime("client").uow()
    await deps.member_invitations.accept(token, account.user_id, first_uow)
    await deps.member_invitations.accept(token, account.user_id, second_uow)
    await first_uow.commit()
    with pytest.raises(StaleVersion):
        await second_uow.commit()
    # Through the API, at once: the loser is staged again and finds the
    # winner's acceptance — the same answer, never a second membership.
    both = await asyncio.gather(world.accept(account, token), world.accept(account, token))
    assert [r.status_code for r in both] == [200, 200], [r.text for r in both]
    assert both[0].json() == both[1].json()
    added = [
        e for e in await world.published("company.member-added") if e["userId"] == account.user_id
    ]
    assert len(added) == 1
    members = await world.client.get(
        "/v1/clients/me/members", headers=owner.headers, params={"limit": 100}
    )
    assert [m["userId"] for m in members.json()["items"]].count(account.user_id) == 1
    changes = await world.client.get("/v1/clients/me/member-changes", headers=owner.headers)
    joined = [c for c in changes.json()["items"] if c["userId"] == account.user_id]
    assert len(joined) == 1
    assert joined[0]["change"] == "added"
    assert joined[0]["role"] == "finance"


async def test_the_backfill_gives_old_companies_their_owner(fleet: Running, world: World) -> None:
    owner = await world.company_owner()
    company_id = await world.company_id(owner)
    members = fleet.runtime("client").table("members")
    # A company registered before teams: no member items.
    for key in (
        {"pk": f"company#{company_id}", "sk": f"user#{owner.user_id}"},
        {"pk": f"user#{owner.user_id}", "sk": f"company#{company_id}"},
    ):
        await members.client.delete_item(TableName=members.name, Key=to_wire(key))  # type: ignore[arg-type]

    async def run() -> int:
        added, cursor = 0, None
        while True:
            response = await world.client.post(
                "/internal/clients/members/backfill",
                headers=fleet.service_bearer("admin"),
                json={"limit": 100, **({"cursor": cursor} if cursor else {})},
            )
            assert response.status_code == 200, response.text
            added += response.json()["added"]
            cursor = response.json()["nextCursor"]
            if cursor is None:
                return added

    assert await run() >= 1
    assert await members.get({"pk": f"company#{company_id}", "sk": f"user#{owner.user_id}"})
    assert await members.get({"pk": f"user#{owner.user_id}", "sk": f"company#{company_id}"})
    assert await run() == 0  # idempotent
    await fleet.deliver()
    assert (await world.client.get("/v1/clients/me", headers=owner.headers)).status_code == 200
    world.problem(
        await world.client.post(
            "/internal/clients/members/backfill", headers=fleet.service_bearer("contract"), json={}
        ),
        403,
    )
    world.problem(
        await world.client.post(
            "/internal/clients/members/backfill",
            headers=fleet.service_bearer("admin"),
            json={"limit": 0},
        ),
        422,
        "invalid-input",
    )


async def test_the_backfill_never_brings_back_an_owner_who_left(
    fleet: Running, world: World
) -> None:
    owner = await world.company_owner()
    company_id = await world.company_id(owner)
    second = await world.member(owner, "owner")
    left = await world.client.delete(
        f"/v1/clients/me/members/{owner.user_id}", headers=owner.headers
    )
    assert left.status_code == 204, left.text
    await fleet.deliver()
    cursor = None
    while True:  # every page: the company is somewhere among the session's
        response = await world.client.post(
            "/internal/clients/members/backfill",
            headers=fleet.service_bearer("admin"),
            json={"limit": 100, **({"cursor": cursor} if cursor else {})},
        )
        assert response.status_code == 200, response.text
        cursor = response.json()["nextCursor"]
        if cursor is None:
            break
    members = fleet.runtime("client").table("members")
    assert await members.get({"pk": f"company#{company_id}", "sk": f"user#{owner.user_id}"}) is None
    assert await members.get({"pk": f"company#{company_id}", "sk": f"user#{second.user_id}"})
