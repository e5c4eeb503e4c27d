"""The operator's lists (the admin service's internal routes): the review queue
and a contractor's sessions — paging, who may read them, and what they show."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mindlinks_dev import lists
from mindlinks_dev.harness import Running
from mindlinks_dev.problem import problem
from mindlinks_kyc.deps import KycDeps

if TYPE_CHECKING:
    from conftest import ContractorAccount, Contractors

WEBHOOK = "/v1/kyc/webhooks/veriff"
QUEUE = "/internal/kyc/review-queue"
SESSIONS = "/internal/kyc/sessions"
SUMMARY = {
    "id",
    "contractorId",
    "userId",
    "provider",
    "status",
    "reason",
    "createdAt",
    "updatedAt",
    "expiresAt",
    "decidedAt",
    "decidedBy",
    "applicantName",
    "verifiedLegalName",
}


async def open_session(fleet: Running, account: ContractorAccount) -> dict[str, Any]:
    response = await fleet.client("kyc").post("/v1/kyc/sessions", headers=account.headers)
    assert response.status_code == 201, response.text
    session: dict[str, Any] = response.json()
    return session


async def in_review(fleet: Running, kyc: KycDeps, account: ContractorAccount) -> dict[str, Any]:
    """A session the provider handed to a human: Veriff's ``review``, signed and
    delivered to the real webhook route as the local provider sends it."""
    session = await open_session(fleet, account)
    stored = await kyc.runtime.table("sessions").get({"id": session["id"]})
    assert stored is not None
    assert kyc.providers.local is not None
    raw, headers = kyc.providers.local.signed_decision(
        provider_session_id=stored["providerSessionId"],
        status="review",
        reason=None,
        vendor_data=stored["contractorId"],
        accepted_at=stored["createdAt"],
    )
    delivered = await fleet.client("kyc").post(WEBHOOK, content=raw, headers=headers)
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["status"] == "in_review"
    return session


async def walk(fleet: Running, path: str, limit: int, **params: str) -> list[dict[str, Any]]:
    """Every page of a list, following ``nextCursor``."""
    kyc, admin = fleet.client("kyc"), fleet.service_bearer("admin")
    return await lists.read_all(kyc, path, admin, limit, **params)


async def decide(fleet: Running, session_id: str, decision: str, reason: str | None = None) -> Any:
    return await fleet.client("kyc").post(
        f"/internal/kyc/sessions/{session_id}/decision",
        json={"decision": decision, "decidedBy": "admin-1", "reason": reason},
        headers=fleet.service_bearer("admin"),
    )


async def test_the_review_queue_lists_sessions_in_review_oldest_first(
    fleet: Running, contractors: Contractors, kyc: KycDeps
) -> None:
    first = await in_review(fleet, kyc, await contractors.create("Ada Lovelace"))
    waiting = await open_session(fleet, await contractors.create("Alan Turing"))
    second = await in_review(fleet, kyc, await contractors.create("Grace Hopper"))

    queue = await walk(fleet, QUEUE, limit=1)
    ids = [s["id"] for s in queue]
    assert len(ids) == len(set(ids))
    assert {s["status"] for s in queue} == {"in_review"}
    assert [s["createdAt"] for s in queue] == sorted(s["createdAt"] for s in queue)
    assert ids.index(first["id"]) < ids.index(second["id"])
    assert waiting["id"] not in ids
    mine = next(s for s in queue if s["id"] == first["id"])
    assert set(mine) == SUMMARY  # no verification link, no documents
    assert mine["decidedBy"] == f"provider:{mine['provider']}"

    # A human decides: the session leaves the queue.
    decided = await decide(fleet, first["id"], "approved")
    assert decided.status_code == 200, decided.text
    assert set(decided.json()) == {"outcome", "session"}
    assert (decided.json()["outcome"], decided.json()["session"]["status"]) == (
        "applied",
        "approved",
    )
    after = [s["id"] for s in await walk(fleet, QUEUE, limit=50)]
    assert first["id"] not in after
    assert second["id"] in after


async def test_a_contractors_sessions_newest_first_with_cursors(
    fleet: Running, contractors: Contractors
) -> None:
    grace = await contractors.create()
    opened = []
    for attempt in range(3):
        session = await open_session(fleet, grace)
        opened.append(session["id"])
        if attempt < 2:  # declined: the contractor may start again
            declined = await decide(fleet, session["id"], "declined", "Blurry document")
            assert declined.status_code == 200, declined.text

    client = fleet.client("kyc")
    admin = fleet.service_bearer("admin")
    params: dict[str, Any] = {"contractorId": grace.contractor_id, "limit": 2}
    first = await client.get(SESSIONS, params=params, headers=admin)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [s["id"] for s in page["items"]] == opened[::-1][:2]
    assert page["items"][0]["status"] == "created"
    assert page["items"][1]["status"] == "declined"
    assert page["items"][1]["reason"] == "Blurry document"
    assert page["items"][1]["decidedBy"] == "admin:admin-1"
    assert set(page["items"][0]) == SUMMARY
    rest = await client.get(
        SESSIONS, params={**params, "cursor": page["nextCursor"]}, headers=admin
    )
    assert [s["id"] for s in rest.json()["items"]] == [opened[0]]
    assert rest.json()["nextCursor"] is None

    # A cursor belongs to its list: not another contractor's, not the queue.
    other = await client.get(
        SESSIONS,
        params={"contractorId": uuid.uuid4().hex, "cursor": page["nextCursor"]},
        headers=admin,
    )
    problem(other, 422, "invalid-cursor")
    queue = await client.get(QUEUE, params={"cursor": page["nextCursor"]}, headers=admin)
    problem(queue, 422, "invalid-cursor")

    unknown = await client.get(SESSIONS, params={"contractorId": "nobody"}, headers=admin)
    assert unknown.json() == {"items": [], "nextCursor": None}


async def test_one_session_as_the_lists_show_it(
    fleet: Running, contractors: Contractors, kyc: KycDeps
) -> None:
    session = await in_review(fleet, kyc, await contractors.create("Ada Lovelace"))
    client = fleet.client("kyc")
    admin = fleet.service_bearer("admin")

    one = await client.get(f"{SESSIONS}/{session['id']}", headers=admin)
    assert one.status_code == 200, one.text
    assert set(one.json()) == SUMMARY  # no verification link, no documents
    queued = next(s for s in await walk(fleet, QUEUE, limit=100) if s["id"] == session["id"])
    assert one.json() == queued
    assert one.json()["status"] == "in_review"
    assert one.json()["decidedBy"] == f"provider:{one.json()['provider']}"

    decided = await decide(fleet, session["id"], "declined", "Blurry document")
    assert decided.status_code == 200, decided.text
    after = (await client.get(f"{SESSIONS}/{session['id']}", headers=admin)).json()
    assert (after["status"], after["reason"], after["decidedBy"]) == (
        "declined",
        "Blurry document",
        "admin:admin-1",
    )


async def test_one_unknown_or_malformed_session_is_refused(fleet: Running) -> None:
    client = fleet.client("kyc")
    admin = fleet.service_bearer("admin")
    unknown = await client.get(f"{SESSIONS}/{uuid.uuid4().hex}", headers=admin)
    problem(unknown, 404, "not-found")
    for bad in ("a.b", "x" * 65):
        problem(await client.get(f"{SESSIONS}/{bad}", headers=admin), 422, "invalid-input")


@pytest.mark.parametrize(
    "path",
    [
        QUEUE,
        f"{SESSIONS}?contractorId=c-1",
        f"{SESSIONS}/s-1",
        "/internal/kyc/sessions/s-1/decision",
    ],
)
async def test_only_the_admin_service_reads_or_decides(fleet: Running, path: str) -> None:
    decision = path.endswith("/decision")
    body = {"decision": "approved", "decidedBy": "a"} if decision else None

    async def call(headers: dict[str, str]) -> httpx.Response:
        method = "POST" if decision else "GET"
        return await fleet.client("kyc").request(method, path, json=body, headers=headers)

    for service in ("contractor", "notification", "kyc", "contract"):
        problem(await call(fleet.service_bearer(service)), 403, "forbidden")
    problem(await call({}), 401, "unauthorized")
    # A user's token — even an admin user's — is not a service credential.
    problem(await call(fleet.bearer(uuid.uuid4().hex, "admin")), 401, "unauthorized")


async def test_bad_list_input_is_refused(fleet: Running) -> None:
    client = fleet.client("kyc")
    admin = fleet.service_bearer("admin")
    for params in ({"limit": 0}, {"limit": 101}, {"limit": "many"}, {"cursor": "!!"}):
        response = await client.get(QUEUE, params=params, headers=admin)
        assert response.status_code == 422, (params, response.text)
    for params in ({}, {"contractorId": ""}, {"contractorId": "a b"}, {"contractorId": "x" * 65}):
        problem(await client.get(SESSIONS, params=params, headers=admin), 422, "invalid-input")
    forged = await client.get(QUEUE, params={"cursor": "eyJpZCI6IngifQ"}, headers=admin)
    problem(forged, 422, "invalid-cursor")
