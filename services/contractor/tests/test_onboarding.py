"""POST /v1/contractors/accept-invitation: the profile on the first
invitation, an engagement per company, redeemed once at the client service."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from mindlinks_contractor.domain import contractor_id_for
from mindlinks_dev.harness import Running
from mindlinks_kit.dynamo import values

if TYPE_CHECKING:
    from conftest import World


async def test_the_first_invitation_onboards_the_contractor(fleet: Running, world: World) -> None:
    owner = await world.company_owner()
    contractor = await world.account("contractor", "Grace Hopper")
    invitation_id, token = await world.invitation(owner, contractor.email)

    response = await world.accept(contractor, token)
    assert response.status_code == 200, response.text
    body = response.json()
    profile = body["contractor"]
    contractor_id = contractor_id_for(contractor.user_id)
    assert profile == {
        "id": contractor_id,
        "userId": contractor.user_id,
        "name": "Grace Hopper",
        "displayName": None,
        "verifiedLegalName": None,
        "email": contractor.email,
        "phone": None,
        "address": None,
        "country": None,
        "taxId": None,
        "kycStatus": "not_started",
        "kycDecidedAt": None,
        "kycReason": None,
        "createdAt": profile["createdAt"],
        "updatedAt": profile["createdAt"],
        "version": 1,
    }
    company = (await world.client.get("/v1/clients/me", headers=owner.headers)).json()
    assert body["engagement"] == {
        "companyId": company["id"],
        "companyName": company["legalName"],
        "invitationId": invitation_id,
        "since": body["engagement"]["since"],
    }
    assert body["firstOnboarding"] is True
    assert body["contractorId"] == contractor_id
    me = await world.contractor.get("/v1/contractors/me", headers=contractor.headers)
    assert me.json() == profile

    [created] = [
        e for e in await world.published("contractor.created") if e["contractorId"] == contractor_id
    ]
    assert created == {
        "contractorId": contractor_id,
        "userId": contractor.user_id,
        "email": contractor.email,
        "name": "Grace Hopper",
    }
    [accepted] = [
        e
        for e in await world.published("invitation.accepted")
        if e["contractorId"] == contractor_id
    ]
    assert accepted == {
        "invitationId": invitation_id,
        "companyId": company["id"],
        "contractorId": contractor_id,
        "contractorUserId": contractor.user_id,
        "invitedByUserId": owner.user_id,
    }

    # The client service recorded who redeemed it.
    [engaged] = (await world.client.get("/v1/clients/contractors", headers=owner.headers)).json()[
        "items"
    ]
    assert (engaged["contractorId"], engaged["name"], engaged["email"]) == (
        contractor_id,
        "Grace Hopper",
        contractor.email,
    )
    # invitation.accepted → the inviter hears who joined (email and in-app), once.
    await fleet.deliver()
    [note] = [n for n in await world.in_app(owner) if n["template"] == "client.contractor-joined"]
    assert note["title"] == "Grace Hopper accepted your invitation"
    [mail] = [
        m for m in await world.mailbox(owner.email) if m["template"] == "client.contractor-joined"
    ]
    assert mail["id"] == note["id"]
    assert contractor.email in mail["text"]


async def test_another_company_adds_an_engagement(fleet: Running, world: World) -> None:
    _, contractor, first = await world.onboarded()
    second_owner = await world.company_owner()
    _, token = await world.invitation(second_owner, contractor.email)
    response = await world.accept(contractor, token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["firstOnboarding"] is False
    second_company = (await world.client.get("/v1/clients/me", headers=second_owner.headers)).json()
    assert body["engagement"]["companyName"] == second_company["legalName"]
    assert body["contractor"] == first["contractor"]

    contractor_id = first["contractor"]["id"]
    created = [
        e for e in await world.published("contractor.created") if e["contractorId"] == contractor_id
    ]
    assert len(created) == 1
    accepted = [
        e
        for e in await world.published("invitation.accepted")
        if e["contractorId"] == contractor_id
    ]
    assert len(accepted) == 2

    record = await world.contractor.get(
        f"/internal/contractors/{contractor_id}", headers=fleet.service_bearer("contract")
    )
    assert sorted(record.json()["companyIds"]) == sorted(
        [first["engagement"]["companyId"], body["engagement"]["companyId"]]
    )
    listed = await world.contractor.get(
        "/v1/contractors/me/engagements", headers=contractor.headers, params={"limit": 1}
    )
    second = await world.contractor.get(
        "/v1/contractors/me/engagements",
        headers=contractor.headers,
        params={"limit": 1, "cursor": listed.json()["nextCursor"]},
    )
    assert second.json()["nextCursor"] is None
    names = {e["companyName"] for e in listed.json()["items"] + second.json()["items"]}
    assert names == {first["engagement"]["companyName"], second_company["legalName"]}
    world.problem(
        await world.contractor.get(
            "/v1/contractors/me/engagements", headers=contractor.headers, params={"cursor": "x"}
        ),
        422,
        "invalid-cursor",
    )


async def test_accepting_again_changes_nothing_and_others_cannot(world: World) -> None:
    owner = await world.company_owner()
    contractor = await world.account()
    _, token = await world.invitation(owner, contractor.email)
    first = await world.accept(contractor, token)
    again = await world.accept(contractor, token)
    assert again.status_code == 200, again.text
    assert again.json()["engagement"] == first.json()["engagement"]
    assert again.json()["firstOnboarding"] is False
    contractor_id = first.json()["contractor"]["id"]
    accepted = [
        e
        for e in await world.published("invitation.accepted")
        if e["contractorId"] == contractor_id
    ]
    assert len(accepted) == 1

    someone = await world.account(email=contractor.email.replace("@", "+x@"))
    world.problem(await world.accept(someone, token), 409, "invitation-used")


async def test_a_retry_after_a_lost_commit_completes_the_onboarding(
    fleet: Running, world: World
) -> None:
    """The token was redeemed but the contractor service's own transaction
    never committed: the user retries and everything is recorded once."""
    owner = await world.company_owner()
    contractor = await world.account()
    _, token = await world.invitation(owner, contractor.email)
    redeemed = await world.client.post(
        "/internal/clients/invitations/redeem",
        headers=fleet.service_bearer("contractor"),
        json={
            "token": token,
            "contractorId": contractor_id_for(contractor.user_id),
            "userId": contractor.user_id,
            "email": contractor.email,
        },
    )
    assert redeemed.status_code == 200, redeemed.text
    world.problem(
        await world.contractor.get("/v1/contractors/me", headers=contractor.headers),
        404,
        "contractor-not-onboarded",
    )
    response = await world.accept(contractor, token)
    assert response.status_code == 200, response.text
    assert response.json()["firstOnboarding"] is True
    created = [
        e for e in await world.published("contractor.created") if e["userId"] == contractor.user_id
    ]
    assert len(created) == 1


async def test_refusals_come_from_the_client_service(fleet: Running, world: World) -> None:
    owner = await world.company_owner()
    contractor = await world.account()
    world.problem(await world.accept(contractor, "z" * 43), 404, "invitation-not-found")

    _, token = await world.invitation(owner, f"other{uuid.uuid4().hex[:8]}@example.com")
    world.problem(await world.accept(contractor, token), 403, "invitation-email-mismatch")

    invitation_id, token = await world.invitation(owner, contractor.email)
    await (
        fleet.runtime("client")
        .table("invitations")
        .update(
            {"id": invitation_id},
            "SET expiresAt = :past",
            values=values(past="2020-01-01T00:00:00.000000Z"),
        )
    )
    world.problem(await world.accept(contractor, token), 410, "invitation-expired")

    other_owner = await world.company_owner()
    invitation_id, token = await world.invitation(other_owner, contractor.email)
    revoked = await world.client.delete(
        f"/v1/clients/invitations/{invitation_id}", headers=other_owner.headers
    )
    assert revoked.status_code == 204
    world.problem(await world.accept(contractor, token), 409, "invitation-revoked")
    # Nothing was recorded for any of them.
    world.problem(
        await world.contractor.get("/v1/contractors/me", headers=contractor.headers),
        404,
        "contractor-not-onboarded",
    )


async def test_accepting_needs_a_contractor(fleet: Running, world: World) -> None:
    owner = await world.company_owner()
    path = "/v1/contractors/accept-invitation"
    body = {"token": "t" * 43}
    world.problem(
        await world.contractor.post(path, json=body, headers=owner.headers), 403, "forbidden"
    )
    world.problem(await world.contractor.post(path, json=body), 401, "unauthorized")
    world.problem(
        await world.contractor.post(path, json=body, headers=fleet.service_bearer("client")),
        401,
        "unauthorized",
    )
    contractor = await world.account()
    for bad in ({}, {"token": "short"}, {"token": None}, {"token": "t" * 43, "x": 1}):
        response = await world.contractor.post(path, json=bad, headers=contractor.headers)
        world.problem(response, 422, "invalid-input")


async def test_an_account_unknown_to_auth(fleet: Running, world: World) -> None:
    owner = await world.company_owner()
    _, token = await world.invitation(owner, f"ghost{uuid.uuid4().hex[:8]}@example.com")
    ghost = fleet.bearer(uuid.uuid4().hex, "contractor")
    response = await world.contractor.post(
        "/v1/contractors/accept-invitation", headers=ghost, json={"token": token}
    )
    world.problem(response, 404, "account-not-found")
