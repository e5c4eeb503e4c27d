"""Verification sessions: open (or reopen), read, "my KYC", and who may do what."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

from mindlinks_dev.harness import Running
from mindlinks_dev.problem import problem
from mindlinks_kit.dynamo import values

if TYPE_CHECKING:
    from conftest import Contractors

SESSIONS = "/v1/kyc/sessions"


async def test_a_contractor_opens_a_session_with_the_local_provider(
    fleet: Running, contractors: Contractors
) -> None:
    grace = await contractors.create()
    response = await fleet.client("kyc").post(SESSIONS, headers=grace.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "status", "provider", "verificationUrl", "createdAt", "expiresAt"}
    assert body["status"] == "created"
    assert body["provider"] == "local"
    assert body["verificationUrl"].endswith(f"/v1/kyc/dev/sessions/{body['id']}")
    assert body["createdAt"].endswith("Z")

    page = await fleet.client("kyc").get(f"/v1/kyc/dev/sessions/{body['id']}")
    assert page.status_code == 200
    assert page.json()["decide"].endswith(f"/v1/kyc/dev/sessions/{body['id']}/decide")

    read = await fleet.client("kyc").get(f"{SESSIONS}/{body['id']}", headers=grace.headers)
    assert read.status_code == 200
    assert read.json() | {"updatedAt": "-"} == {
        "id": body["id"],
        "contractorId": grace.contractor_id,
        "status": "created",
        "provider": "local",
        "verificationUrl": body["verificationUrl"],
        "reason": None,
        "createdAt": body["createdAt"],
        "updatedAt": "-",
        "expiresAt": body["expiresAt"],
        "decidedAt": None,
        "applicantName": "Grace Hopper",
        "verifiedLegalName": None,
        "documents": [],
    }


async def test_an_open_session_is_returned_instead_of_a_second_one(
    fleet: Running, contractors: Contractors
) -> None:
    grace = await contractors.create()
    first = await fleet.client("kyc").post(SESSIONS, headers=grace.headers)
    again = await fleet.client("kyc").post(SESSIONS, headers=grace.headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()


async def test_concurrent_requests_open_one_session(
    fleet: Running, contractors: Contractors
) -> None:
    grace = await contractors.create()
    responses = await asyncio.gather(
        *(fleet.client("kyc").post(SESSIONS, headers=grace.headers) for _ in range(3))
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 201], [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1


async def test_an_expired_session_is_replaced(fleet: Running, contractors: Contractors) -> None:
    grace = await contractors.create()
    first = (await fleet.client("kyc").post(SESSIONS, headers=grace.headers)).json()
    await (
        fleet.runtime("kyc")
        .table("sessions")
        .update(
            {"id": first["id"]}, "SET expiresAt = :past", values=values(past="2020-01-01T00:00:00Z")
        )
    )
    read = await fleet.client("kyc").get(f"{SESSIONS}/{first['id']}", headers=grace.headers)
    assert read.json()["status"] == "expired"
    mine = await fleet.client("kyc").get("/v1/kyc/me", headers=grace.headers)
    assert mine.json()["status"] == "expired"

    second = await fleet.client("kyc").post(SESSIONS, headers=grace.headers)
    assert second.status_code == 201
    assert second.json()["id"] != first["id"]


async def test_the_idempotency_key_replays_the_first_answer(
    fleet: Running, contractors: Contractors
) -> None:
    grace = await contractors.create()
    headers = {**grace.headers, "Idempotency-Key": uuid.uuid4().hex}
    first = await fleet.client("kyc").post(SESSIONS, headers=headers)
    replay = await fleet.client("kyc").post(SESSIONS, headers=headers)
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    problem(
        await fleet.client("kyc").post(SESSIONS, headers={**grace.headers, "Idempotency-Key": "x"}),
        422,
        "invalid-input",
    )


async def test_a_caller_without_a_contractor_profile_is_refused(fleet: Running) -> None:
    stranger = fleet.bearer(uuid.uuid4().hex, "contractor")
    body = problem(
        await fleet.client("kyc").post(SESSIONS, headers=stranger),
        409,
        "contractor-profile-required",
    )
    assert "contractor profile" in body["title"]
    mine = await fleet.client("kyc").get("/v1/kyc/me", headers=stranger)
    assert mine.json() == {"status": "not_started", "session": None}


async def test_opening_a_session_needs_a_contractor_token(
    fleet: Running, contractors: Contractors
) -> None:
    kyc = fleet.client("kyc")
    problem(await kyc.post(SESSIONS), 401, "unauthorized")
    problem(await kyc.post(SESSIONS, headers=fleet.bearer("u-1", "client")), 403, "forbidden")
    problem(await kyc.post(SESSIONS, headers=fleet.bearer("u-1", "admin")), 403, "forbidden")
    problem(await kyc.post(SESSIONS, headers=fleet.service_bearer("admin")), 401, "unauthorized")
    problem(await kyc.get("/v1/kyc/me"), 401, "unauthorized")
    problem(await kyc.get("/v1/kyc/me", headers=fleet.bearer("u", "client")), 403, "forbidden")


async def test_a_session_is_visible_to_its_owner_and_admins_only(
    fleet: Running, contractors: Contractors
) -> None:
    grace, other = await contractors.create(), await contractors.create("Alan Turing")
    session = (await fleet.client("kyc").post(SESSIONS, headers=grace.headers)).json()
    path = f"{SESSIONS}/{session['id']}"
    kyc = fleet.client("kyc")

    problem(await kyc.get(path, headers=other.headers), 404, "not-found")
    problem(
        await kyc.get(f"{SESSIONS}/{uuid.uuid4().hex}", headers=grace.headers), 404, "not-found"
    )
    problem(await kyc.get(path), 401, "unauthorized")
    problem(await kyc.get(path, headers=fleet.bearer(grace.user_id, "client")), 403, "forbidden")
    problem(await kyc.get(path, headers=fleet.service_bearer("admin")), 401, "unauthorized")
    problem(
        await kyc.get(f"{SESSIONS}/user:{grace.user_id}", headers=grace.headers),
        422,
        "invalid-input",
    )

    admin = await kyc.get(path, headers=fleet.bearer(uuid.uuid4().hex, "admin"))
    assert admin.status_code == 200
    assert admin.json()["contractorId"] == grace.contractor_id


async def test_my_kyc_follows_the_latest_session(fleet: Running, contractors: Contractors) -> None:
    grace = await contractors.create()
    kyc = fleet.client("kyc")
    assert (await kyc.get("/v1/kyc/me", headers=grace.headers)).json() == {
        "status": "not_started",
        "session": None,
    }
    session = (await kyc.post(SESSIONS, headers=grace.headers)).json()
    mine = (await kyc.get("/v1/kyc/me", headers=grace.headers)).json()
    assert mine["status"] == "pending"
    assert mine["session"]["id"] == session["id"]

    decided = await kyc.post(
        f"/v1/kyc/dev/sessions/{session['id']}/decide", json={"decision": "approved"}
    )
    assert decided.status_code == 202, decided.text
    mine = (await kyc.get("/v1/kyc/me", headers=grace.headers)).json()
    assert (mine["status"], mine["session"]["status"]) == ("verified", "approved")
    problem(await kyc.post(SESSIONS, headers=grace.headers), 409, "kyc-already-verified")


async def test_a_declined_contractor_may_try_again(
    fleet: Running, contractors: Contractors
) -> None:
    grace = await contractors.create()
    kyc = fleet.client("kyc")
    first = (await kyc.post(SESSIONS, headers=grace.headers)).json()
    await kyc.post(
        f"/v1/kyc/dev/sessions/{first['id']}/decide",
        json={"decision": "declined", "reason": "Document expired"},
    )
    assert (await kyc.get("/v1/kyc/me", headers=grace.headers)).json()["status"] == "rejected"
    second = await kyc.post(SESSIONS, headers=grace.headers)
    assert second.status_code == 201
    assert second.json()["id"] != first["id"]
    assert (await kyc.get("/v1/kyc/me", headers=grace.headers)).json()["status"] == "pending"
