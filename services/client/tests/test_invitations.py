"""Invitations: mailed through notification, listed, revoked, redeemed once
by the contractor service; the company's contractors."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

import httpx

from mindlinks_dev.harness import Running
from mindlinks_dev.people import new_email
from mindlinks_kit.dynamo import values

if TYPE_CHECKING:
    from conftest import Account, World


async def invited(
    world: World, owner: Account, email: str | None = None
) -> tuple[dict[str, Any], str]:
    """An invitation and its token (read from the mail, the only place it exists)."""
    email = email or new_email()
    response = await world.invite(owner, email, name="Grace Hopper")
    assert response.status_code == 201, response.text
    return response.json(), await world.invitation_token(email)


async def test_an_invitation_is_mailed_and_announced(fleet: Running, world: World) -> None:
    owner = await world.company_owner(name="Ada Lovelace")
    company_name = await world.company_name(owner)
    email = new_email()
    response = await world.invite(owner, email.upper(), name="Grace Hopper")
    assert response.status_code == 201, response.text
    invitation = response.json()
    assert invitation == {
        "id": invitation["id"],
        "companyId": invitation["companyId"],
        "email": email,
        "name": "Grace Hopper",
        "status": "pending",
        "invitedByUserId": owner.user_id,
        "createdAt": invitation["createdAt"],
        "expiresAt": invitation["expiresAt"],
        "acceptedAt": None,
        "revokedAt": None,
        "contractorId": None,
    }
    assert invitation["expiresAt"] > invitation["createdAt"]
    assert "token" not in response.text

    [mail] = await world.mailbox(email)
    assert mail["template"] == "client.invitation"
    data = mail["data"]
    token = data["token"]
    assert len(token) >= 40
    assert data["companyName"] == company_name
    assert data["inviterName"] == "Ada Lovelace"
    url = urlparse(data["inviteUrl"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == "http://localhost:8080/accept-invitation"
    assert parse_qs(url.query) == {"token": [token]}
    assert "Ada Lovelace" in mail["subject"]
    assert token in mail["text"]

    # Stored only as its digest; the event does not carry it either.
    stored = await fleet.runtime("client").table("invitations").get({"id": invitation["id"]})
    assert stored is not None
    assert token not in str(stored)
    [event] = [
        e
        for e in await world.published("invitation.created")
        if e["invitationId"] == invitation["id"]
    ]
    assert event == {
        "invitationId": invitation["id"],
        "companyId": invitation["companyId"],
        "companyName": company_name,
        "email": email,
        "invitedByUserId": owner.user_id,
        "expiresAt": invitation["expiresAt"],
    }
    assert token not in str(event)

    # invitation.created → the inviter's in-app note, along the real event path.
    await fleet.deliver()
    [note] = [n for n in await world.in_app(owner) if n["template"] == "client.invitation-sent"]
    assert note["title"] == f"Invitation sent to {email}"
    assert note["data"]["email"] == email


async def test_one_pending_invitation_per_address(world: World) -> None:
    owner = await world.company_owner()
    email = new_email()
    await invited(world, owner, email)
    world.problem(await world.invite(owner, email), 409, "invitation-pending")
    world.problem(await world.invite(owner, email.upper()), 409, "invitation-pending")
    assert len(await world.mailbox(email)) == 1
    other_company = await world.company_owner()
    assert (await world.invite(other_company, email)).status_code == 201


async def test_only_an_active_company_invites(world: World) -> None:
    reviewed = await world.account()
    response = await world.register(reviewed, legal_name="Not The Registered Name Ltd")
    assert response.json()["status"] == "pending_review"
    world.problem(await world.invite(reviewed, new_email()), 409, "company-not-active")
    nobody = await world.account()
    world.problem(await world.invite(nobody, new_email()), 409, "company-required")


async def test_invite_needs_a_client_and_a_valid_address(fleet: Running, world: World) -> None:
    owner = await world.company_owner()
    for body in (
        {"email": "not-an-email"},
        {},
        {"email": new_email(), "name": ""},
        {"email": new_email(), "x": 1},
    ):
        response = await world.client.post(
            "/v1/clients/invite-contractor", headers=owner.headers, json=body
        )
        world.problem(response, 422, "invalid-input")
    body = {"email": new_email()}
    contractor = await world.account("contractor")
    world.problem(
        await world.client.post(
            "/v1/clients/invite-contractor", headers=contractor.headers, json=body
        ),
        403,
        "forbidden",
    )
    world.problem(
        await world.client.post("/v1/clients/invite-contractor", json=body), 401, "unauthorized"
    )
    world.problem(
        await world.client.post(
            "/v1/clients/invite-contractor", json=body, headers=fleet.service_bearer("contractor")
        ),
        401,
        "unauthorized",
    )


async def test_a_mail_that_cannot_be_sent_leaves_nothing_behind(
    fleet: Running, world: World
) -> None:
    owner = await world.company_owner()
    email = new_email()

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("notification is down", request=request)

    peers = fleet.runtime("client").peers
    peers.mount("notification", httpx.MockTransport(down))
    try:
        world.problem(await world.invite(owner, email), 503, "peer-unavailable")
    finally:
        peers.mount("notification", httpx.ASGITransport(app=fleet.apps["notification"]))
    listed = await world.client.get("/v1/clients/invitations", headers=owner.headers)
    assert listed.json()["items"] == []
    assert (await world.invite(owner, email)).status_code == 201  # simply retried


async def test_invitations_are_listed_newest_first(fleet: Running, world: World) -> None:
    owner = await world.company_owner()
    ids = [(await invited(world, owner))[0]["id"] for _ in range(3)]
    first = await world.client.get(
        "/v1/clients/invitations", headers=owner.headers, params={"limit": 2}
    )
    assert first.status_code == 200
    assert [i["id"] for i in first.json()["items"]] == ids[::-1][:2]
    cursor = first.json()["nextCursor"]
    second = await world.client.get(
        "/v1/clients/invitations", headers=owner.headers, params={"limit": 2, "cursor": cursor}
    )
    assert [i["id"] for i in second.json()["items"]] == [ids[0]]
    assert second.json()["nextCursor"] is None

    other = await world.company_owner()
    for who, bad in ((other, cursor), (owner, "garbage"), (owner, cursor[:-2] + "AA")):
        response = await world.client.get(
            "/v1/clients/invitations", headers=who.headers, params={"cursor": bad}
        )
        world.problem(response, 422, "invalid-cursor")
    assert (await world.client.get("/v1/clients/invitations", headers=other.headers)).json()[
        "items"
    ] == []
    for limit in (0, 101):
        response = await world.client.get(
            "/v1/clients/invitations", headers=owner.headers, params={"limit": limit}
        )
        world.problem(response, 422, "invalid-input")
    contractor = await world.account("contractor")
    world.problem(
        await world.client.get("/v1/clients/invitations", headers=contractor.headers),
        403,
        "forbidden",
    )
    world.problem(await world.client.get("/v1/clients/invitations"), 401, "unauthorized")


async def test_revoking(fleet: Running, world: World) -> None:
    owner = await world.company_owner()
    email = new_email()
    invitation, token = await invited(world, owner, email)
    path = f"/v1/clients/invitations/{invitation['id']}"

    other = await world.company_owner()
    world.problem(
        await world.client.delete(path, headers=other.headers), 404, "invitation-not-found"
    )
    world.problem(
        await world.client.delete(
            f"/v1/clients/invitations/{uuid.uuid4().hex}", headers=owner.headers
        ),
        404,
        "invitation-not-found",
    )
    world.problem(await world.client.delete(path), 401, "unauthorized")

    assert (await world.client.delete(path, headers=owner.headers)).status_code == 204
    assert (await world.client.delete(path, headers=owner.headers)).status_code == 204
    [listed] = (await world.client.get("/v1/clients/invitations", headers=owner.headers)).json()[
        "items"
    ]
    assert listed["status"] == "revoked"
    assert listed["revokedAt"]
    redeem = await world.redeem(token, contractor_id="c-1", user_id=uuid.uuid4().hex, email=email)
    world.problem(redeem, 409, "invitation-revoked")
    # The address is free again.
    assert (await world.invite(owner, email)).status_code == 201


async def test_a_token_redeems_once(fleet: Running, world: World) -> None:
    owner = await world.company_owner()
    email = new_email()
    invitation, token = await invited(world, owner, email)
    user_id = uuid.uuid4().hex

    world.problem(
        await world.redeem(token, contractor_id="c-1", user_id=user_id, email=new_email()),
        403,
        "invitation-email-mismatch",
    )
    response = await world.redeem(token, contractor_id="c-1", user_id=user_id, email=email.upper())
    assert response.status_code == 200, response.text
    redeemed = response.json()
    assert redeemed == {
        "invitationId": invitation["id"],
        "companyId": invitation["companyId"],
        "companyName": await world.company_name(owner),
        "invitedByUserId": owner.user_id,
        "acceptedAt": redeemed["acceptedAt"],
        "replayed": False,
    }
    # The same contractor again (its own commit failed): the same answer.
    again = await world.redeem(token, contractor_id="c-1", user_id=user_id, email=email)
    assert again.json() == {**redeemed, "replayed": True}
    # Anyone else: used.
    world.problem(
        await world.redeem(token, contractor_id="c-2", user_id=uuid.uuid4().hex, email=email),
        409,
        "invitation-used",
    )
    [listed] = (await world.client.get("/v1/clients/invitations", headers=owner.headers)).json()[
        "items"
    ]
    assert (listed["status"], listed["contractorId"]) == ("accepted", "c-1")
    # Engaged: no new invitation to the same address.
    world.problem(await world.invite(owner, email), 409, "contractor-already-engaged")
    world.problem(
        await world.client.delete(
            f"/v1/clients/invitations/{invitation['id']}", headers=owner.headers
        ),
        409,
        "invitation-already-accepted",
    )


async def test_unknown_and_expired_tokens(fleet: Running, world: World) -> None:
    owner = await world.company_owner()
    email = new_email()
    invitation, token = await invited(world, owner, email)
    world.problem(
        await world.redeem("x" * 43, contractor_id="c-1", user_id="u-1", email=email),
        404,
        "invitation-not-found",
    )
    table = fleet.runtime("client").table("invitations")
    await table.update(
        {"id": invitation["id"]},
        "SET expiresAt = :past",
        values=values(past="2020-01-01T00:00:00.000000Z"),
    )
    world.problem(
        await world.redeem(token, contractor_id="c-1", user_id="u-1", email=email),
        410,
        "invitation-expired",
    )
    [listed] = (await world.client.get("/v1/clients/invitations", headers=owner.headers)).json()[
        "items"
    ]
    assert listed["status"] == "expired"


async def test_redeeming_is_for_the_contractor_service(fleet: Running, world: World) -> None:
    owner = await world.company_owner()
    email = new_email()
    _, token = await invited(world, owner, email)
    for service in ("contract", "payment"):
        response = await world.redeem(
            token, contractor_id="c", user_id="u", email=email, service=service
        )
        world.problem(response, 403, "forbidden")
    body = {"token": token, "contractorId": "c", "userId": "u", "email": email}
    path = "/internal/clients/invitations/redeem"
    world.problem(await world.client.post(path, json=body), 401, "unauthorized")
    world.problem(
        await world.client.post(path, json=body, headers=owner.headers), 401, "unauthorized"
    )
    # The user's token travels beside the service token: it must be the same user.
    headers = {
        **fleet.service_bearer("contractor"),
        "x-user-authorization": fleet.bearer("someone-else", "contractor")["authorization"],
    }
    world.problem(await world.client.post(path, json=body, headers=headers), 403, "forbidden")
    for change in ({"token": "short"}, {"email": None}, {"contractorId": ""}):
        response = await world.client.post(
            path, json={**body, **change}, headers=fleet.service_bearer("contractor")
        )
        world.problem(response, 422, "invalid-input")


async def test_a_company_lists_its_contractors(fleet: Running, world: World) -> None:
    owner = await world.company_owner()
    accepted = []
    for n in range(3):
        email = new_email()
        _, token = await invited(world, owner, email)
        response = await world.redeem(token, contractor_id=f"c-{n}", user_id=f"u-{n}", email=email)
        assert response.status_code == 200
        accepted.append((f"c-{n}", email, response.json()["acceptedAt"]))
    await invited(world, owner)  # pending: not a contractor yet

    first = await world.client.get(
        "/v1/clients/contractors", headers=owner.headers, params={"limit": 2}
    )
    assert first.status_code == 200, first.text
    second = await world.client.get(
        "/v1/clients/contractors",
        headers=owner.headers,
        params={"limit": 2, "cursor": first.json()["nextCursor"]},
    )
    assert second.json()["nextCursor"] is None
    items = first.json()["items"] + second.json()["items"]
    assert [(i["contractorId"], i["email"], i["acceptedAt"]) for i in items] == accepted[::-1]
    assert {i["name"] for i in items} == {"Grace Hopper"}
    assert set(items[0]) == {"contractorId", "name", "email", "acceptedAt", "invitationId"}

    other = await world.company_owner()
    assert (await world.client.get("/v1/clients/contractors", headers=other.headers)).json()[
        "items"
    ] == []
    world.problem(
        await world.client.get(
            "/v1/clients/contractors", headers=owner.headers, params={"cursor": "nope"}
        ),
        422,
        "invalid-cursor",
    )
    contractor = await world.account("contractor")
    world.problem(
        await world.client.get("/v1/clients/contractors", headers=contractor.headers),
        403,
        "forbidden",
    )
    world.problem(await world.client.get("/v1/clients/contractors"), 401, "unauthorized")


async def test_a_company_not_active_cannot_be_joined(fleet: Running, world: World) -> None:
    owner = await world.company_owner()
    email = new_email()
    _, token = await invited(world, owner, email)
    company = (await world.client.get("/v1/clients/me", headers=owner.headers)).json()
    await (
        fleet.runtime("client")
        .table("companies")
        .update(
            {"id": company["id"]},
            "SET #s = :s",
            names={"#s": "status"},
            values=values(s="pending_review"),
        )
    )  # what an admin's review will do (issue 4)
    world.problem(
        await world.redeem(token, contractor_id="c", user_id="u", email=email),
        409,
        "company-not-active",
    )
