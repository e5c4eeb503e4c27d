"""Users, companies, contractors and KYC through the admin API, against the
real services: searches, one person across the fleet (degrading to
``partial`` when a service is down), suspension with its audit records,
company and KYC decisions."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev.parties import ClientAccount, ContractorAccount

if TYPE_CHECKING:
    from conftest import Desk


@pytest.fixture(scope="module")
async def pair(desk: Desk) -> tuple[ClientAccount, ContractorAccount, dict[str, Any]]:
    client, contractor = await desk.parties.pair()
    contract = await desk.parties.draft(client, contractor)
    await desk.fleet.deliver()
    return client, contractor, contract


async def test_users_are_searched_at_auth(desk: Desk, pair: Any) -> None:
    _, contractor, _ = pair
    found = await desk.get("/users", email=contractor.email)
    assert found.status_code == 200, found.text
    assert [u["id"] for u in found.json()["items"]] == [contractor.user_id]
    assert found.json()["items"][0]["role"] == "contractor"

    first = await desk.get("/users", role="admin", limit=1)
    assert first.status_code == 200, first.text
    assert len(first.json()["items"]) == 1
    assert {u["role"] for u in first.json()["items"]} == {"admin"}


async def test_searches_refuse_bad_input(desk: Desk) -> None:
    desk.problem(await desk.get("/users", role="owner"), 422, "invalid-input")
    desk.problem(await desk.get("/users", limit=0), 422, "invalid-input")
    desk.problem(await desk.get("/companies", status="open"), 422, "invalid-input")
    desk.problem(await desk.get("/contractors", kycStatus="maybe"), 422, "invalid-input")
    # The peer refuses a forged cursor; the admin gets the same 422.
    forged = await desk.get("/users", cursor="not-a-cursor")
    assert forged.status_code == 422, forged.text
    assert forged.json()["service"] == "auth"


async def test_one_client_across_the_fleet(desk: Desk, pair: Any) -> None:
    client, _, contract = pair
    response = await desk.get(f"/users/{client.user_id}")
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["account"]["id"] == client.user_id
    assert view["account"]["role"] == "client"
    assert view["profile"]["userId"] == client.user_id
    assert view["company"]["id"] == client.company_id
    assert view["contractor"] is None
    assert view["kyc"] is None
    assert [c["id"] for c in view["contracts"]] == [contract["id"]]
    assert view["partial"] == []

    [seen] = await desk.audit(target=f"user:{client.user_id}", action="user.view")
    assert seen["phase"] == "viewed"
    assert seen["actorUserId"] == desk.user_id
    assert seen["correlationId"] == response.headers["x-correlation-id"]


async def test_one_contractor_across_the_fleet(desk: Desk, pair: Any) -> None:
    _, contractor, contract = pair
    view = (await desk.get(f"/users/{contractor.user_id}")).json()
    assert view["contractor"]["id"] == contractor.contractor_id
    assert view["contractor"]["kycStatus"] == "verified"
    assert view["company"] is None
    assert view["kyc"] == []
    assert [c["id"] for c in view["contracts"]] == [contract["id"]]
    assert view["partial"] == []


async def test_a_stopped_service_is_named_in_partial(desk: Desk, pair: Any) -> None:
    _, contractor, _ = pair
    with desk.stopped("kyc"):
        response = await desk.get(f"/users/{contractor.user_id}")
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["partial"] == [
        {"service": "kyc", "detail": "kyc did not answer (connection failed)"}
    ]
    assert view["kyc"] is None
    assert view["account"]["id"] == contractor.user_id
    assert view["contractor"]["id"] == contractor.contractor_id


async def test_an_open_breaker_is_named_in_partial(desk: Desk, pair: Any) -> None:
    client, _, _ = pair
    breaker = desk.fleet.runtime("admin").peers.breakers["contract"]
    breaker.open()
    try:
        response = await desk.get(f"/users/{client.user_id}")
    finally:
        breaker.close()
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["partial"] == [
        {"service": "contract", "detail": "contract did not answer (circuit open)"}
    ]
    assert view["contracts"] is None
    assert view["company"]["id"] == client.company_id


async def test_an_unknown_user_is_404_and_not_audited(desk: Desk) -> None:
    unknown = uuid.uuid4().hex
    desk.problem(await desk.get(f"/users/{unknown}"), 404, "user-not-found")
    assert await desk.audit(target=f"user:{unknown}") == []
    desk.problem(await desk.get("/users/bad%20id"), 422, "invalid-input")


async def test_suspension_is_audited_before_and_after(desk: Desk) -> None:
    client = await desk.parties.client()
    target = f"user:{client.user_id}"
    token = desk.fleet.bearer(client.user_id, "client")
    assert (await desk.fleet.client("client").get("/v1/clients/me", headers=token)).is_success

    suspended = await desk.post(f"/users/{client.user_id}/suspend", {"reason": "chargeback fraud"})
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["status"] == "suspended"
    # The revocation reaches every service: the user's live token stops working.
    await desk.fleet.deliver()
    refused = await desk.fleet.client("client").get("/v1/clients/me", headers=token)
    desk.problem(refused, 401, "unauthorized")

    done, asked = await desk.audit(target=target)
    assert (asked["phase"], done["phase"]) == ("requested", "succeeded")
    assert asked["actionId"] == done["actionId"]
    assert asked["action"] == done["action"] == "user.suspend"
    assert asked["reason"] == "chargeback fraud"
    assert asked["before"]["status"] == "active"
    assert asked["after"] is None
    assert done["after"]["status"] == "suspended"
    assert asked["id"] < done["id"]
    assert asked["actorUserId"] == desk.user_id

    lifted = await desk.post(f"/users/{client.user_id}/unsuspend", {"reason": "cleared by bank"})
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["status"] == "active"
    done, asked, *_ = await desk.audit(target=target)
    assert (asked["action"], asked["phase"], done["phase"]) == (
        "user.unsuspend",
        "requested",
        "succeeded",
    )
    assert asked["before"]["status"] == "suspended"
    assert done["after"]["status"] == "active"


async def test_suspension_refusals(desk: Desk) -> None:
    unknown = uuid.uuid4().hex
    desk.problem(
        await desk.post(f"/users/{unknown}/suspend", {"reason": "spam"}), 404, "user-not-found"
    )
    assert await desk.audit(target=f"user:{unknown}") == []
    desk.problem(
        await desk.post(f"/users/{desk.user_id}/suspend", {"reason": "oops"}),
        409,
        "cannot-suspend-self",
    )
    desk.problem(await desk.post(f"/users/{unknown}/suspend", {}), 422, "invalid-input")
    desk.problem(
        await desk.post(f"/users/{unknown}/suspend", {"reason": " x "}), 422, "invalid-input"
    )


async def test_suspending_while_auth_is_down_is_503_and_changes_nothing(
    desk: Desk, pair: Any
) -> None:
    _, contractor, _ = pair
    with desk.stopped("auth"):
        response = await desk.post(f"/users/{contractor.user_id}/suspend", {"reason": "spam"})
    desk.problem(response, 503, "peer-unavailable")
    assert not await desk.audit(target=f"user:{contractor.user_id}", action="user.suspend")


async def test_companies_and_their_review(desk: Desk) -> None:
    held = await desk.parties.client("pending_review")
    listed = await desk.get("/companies", status="pending_review", limit=100)
    assert listed.status_code == 200, listed.text
    assert held.company_id in {c["id"] for c in listed.json()["items"]}

    view = await desk.get(f"/companies/{held.company_id}")
    assert view.status_code == 200, view.text
    assert view.json()["company"]["status"] == "pending_review"
    assert view.json()["owner"]["id"] == held.user_id
    assert view.json()["partial"] == []

    desk.problem(await desk.post(f"/companies/{held.company_id}/reject", {}), 422)
    approved = await desk.post(f"/companies/{held.company_id}/approve", {})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "active"

    rejected = await desk.post(f"/companies/{held.company_id}/reject", {"reason": "too late"})
    body = desk.problem(rejected, 409, "not-pending-review")
    assert body["service"] == "client"

    target = f"company:{held.company_id}"
    failed, asked, done, asked_first, viewed = await desk.audit(target=target)
    assert viewed["phase"] == "viewed"
    assert (asked_first["phase"], asked_first["action"]) == ("requested", "company.approve")
    assert asked_first["before"]["status"] == "pending_review"
    assert done["after"]["status"] == "active"
    assert (asked["action"], failed["phase"]) == ("company.reject", "failed")
    assert failed["error"]["status"] == 409
    assert failed["error"]["code"] == "not-pending-review"
    assert failed["actionId"] == asked["actionId"] != done["actionId"]

    desk.problem(await desk.get(f"/companies/{uuid.uuid4().hex}"), 404, "company-not-found")


async def test_a_company_taken_out_of_service(desk: Desk) -> None:
    """Revoked: rejected, audited with the state before; a company not active
    is the client service's 409; a reason is required."""
    active = await desk.parties.client("active")
    desk.problem(await desk.post(f"/companies/{active.company_id}/revoke", {}), 422)
    revoked = await desk.post(
        f"/companies/{active.company_id}/revoke", {"reason": "the registry's director objected"}
    )
    assert revoked.status_code == 200, revoked.text
    assert (revoked.json()["status"], revoked.json()["review"]["reason"]) == (
        "rejected",
        "the registry's director objected",
    )
    done, asked = await desk.audit(target=f"company:{active.company_id}", action="company.revoke")
    assert (asked["phase"], asked["before"]["status"]) == ("requested", "active")
    assert (done["phase"], done["after"]["status"]) == ("succeeded", "rejected")

    held = await desk.parties.client("pending_review")
    body = desk.problem(
        await desk.post(f"/companies/{held.company_id}/revoke", {"reason": "not yet active"}),
        409,
        "company-not-active",
    )
    assert body["service"] == "client"
    desk.problem(
        await desk.post(f"/companies/{uuid.uuid4().hex}/revoke", {"reason": "nobody here"}),
        404,
        "company-not-found",
    )


async def test_contractors(desk: Desk, pair: Any) -> None:
    _, contractor, _ = pair
    listed = await desk.get("/contractors", kycStatus="verified", limit=100)
    assert listed.status_code == 200, listed.text
    assert contractor.contractor_id in {c["id"] for c in listed.json()["items"]}

    view = await desk.get(f"/contractors/{contractor.contractor_id}")
    assert view.status_code == 200, view.text
    assert view.json()["contractor"]["userId"] == contractor.user_id
    assert view.json()["account"]["email"] == contractor.email
    assert view.json()["kyc"] == []
    assert await desk.audit(target=f"user:{contractor.user_id}", action="contractor.view")
    desk.problem(await desk.get(f"/contractors/{uuid.uuid4().hex}"), 404, "contractor-not-found")


async def in_review(desk: Desk, contractor: ContractorAccount) -> str:
    """A KYC session the provider handed to a human (Veriff's ``review``),
    delivered to the kyc service's real webhook as the local provider signs it."""
    kyc = desk.fleet.client("kyc")
    opened = await kyc.post("/v1/kyc/sessions", headers=contractor.headers)
    assert opened.status_code == 201, opened.text
    session_id: str = opened.json()["id"]
    deps = desk.fleet.deps("kyc")
    stored = await deps.runtime.table("sessions").get({"id": session_id})
    raw, headers = deps.providers.local.signed_decision(
        provider_session_id=stored["providerSessionId"],
        status="review",
        reason=None,
        vendor_data=stored["contractorId"],
        accepted_at=stored["createdAt"],
    )
    delivered = await kyc.post("/v1/kyc/webhooks/veriff", content=raw, headers=headers)
    assert delivered.status_code == 200, delivered.text
    return session_id


async def test_kyc_review_queue_and_decisions(desk: Desk, pair: Any) -> None:
    client, _, _ = pair
    waiting = await desk.parties.contractor(client, kyc="not_started", name="Ada Waiting")
    declined = await desk.parties.contractor(client, kyc="not_started", name="Bob Declined")
    approve_id = await in_review(desk, waiting)
    reject_id = await in_review(desk, declined)

    queue = await desk.get("/kyc/review-queue", limit=100)
    assert queue.status_code == 200, queue.text
    assert {approve_id, reject_id} <= {s["id"] for s in queue.json()["items"]}

    approved = await desk.post(f"/kyc/sessions/{approve_id}/approve", {"reason": "docs fine"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["session"]["status"] == "approved"
    rejected = await desk.post(f"/kyc/sessions/{reject_id}/reject", {"reason": "blurry id"})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["session"]["status"] == "declined"

    done, asked = await desk.audit(target=f"kyc-session:{approve_id}")
    assert (asked["action"], asked["phase"], done["phase"]) == (
        "kyc.approve",
        "requested",
        "succeeded",
    )
    # ``before``: the session as kyc held it, read on its own (not searched for in the queue).
    assert asked["before"]["id"] == approve_id
    assert asked["before"]["contractorId"] == waiting.contractor_id
    assert asked["before"]["status"] == "in_review"
    assert asked["before"]["decidedBy"].startswith("provider:")  # handed over to a human
    assert done["after"]["session"]["status"] == "approved"
    # The decision's events reach the contractor service as a provider's would.
    await desk.fleet.deliver()
    view = (await desk.get(f"/users/{waiting.user_id}")).json()
    assert view["contractor"]["kycStatus"] == "verified"
    assert [s["id"] for s in view["kyc"]] == [approve_id]

    desk.problem(await desk.post(f"/kyc/sessions/{approve_id}/approve", {}), 422)
    unknown_id = uuid.uuid4().hex
    unknown = await desk.post(f"/kyc/sessions/{unknown_id}/approve", {"reason": "ok ok"})
    assert desk.problem(unknown, 404)["service"] == "kyc"
    assert await desk.audit(target=f"kyc-session:{unknown_id}") == []  # nothing to change


async def test_a_kyc_decision_goes_ahead_when_its_before_cannot_be_read(
    desk: Desk, pair: Any
) -> None:
    client, _, _ = pair
    waiting = await desk.parties.contractor(client, kyc="not_started", name="Cy Unread")
    session_id = await in_review(desk, waiting)
    with desk.failing("kyc", "GET", f"/internal/kyc/sessions/{session_id}"):
        approved = await desk.post(f"/kyc/sessions/{session_id}/approve", {"reason": "docs ok"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["session"]["status"] == "approved"
    done, asked = await desk.audit(target=f"kyc-session:{session_id}")
    assert (asked["phase"], done["phase"]) == ("requested", "succeeded")
    assert asked["before"] == {
        "partial": [{"service": "kyc", "detail": "kyc did not answer (server error)"}]
    }
    assert done["after"]["session"]["status"] == "approved"


async def test_a_backfill_cursor_that_cannot_be_one_is_refused_before_it_is_audited(
    desk: Desk,
) -> None:
    before = len(await desk.audit(action="company.backfill-members"))
    for cursor in ("short", "a\x01" * 20, "x" * 3000):
        refused = await desk.post("/company-members/backfill", {"cursor": cursor})
        desk.problem(refused, 422, "invalid-input")
    assert len(await desk.audit(action="company.backfill-members")) == before


async def test_the_backfill_path_is_its_own_and_allows_only_post(desk: Desk) -> None:
    # Under /companies it was taken for a company id too: OPTIONS answered
    # "GET, POST" where the API says POST (schemathesis ST205).
    response = await desk.http.options("/v1/admin/company-members/backfill", headers=desk.headers)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
