"""Decisions: the local provider's signed webhook through the real webhook
route, replay safety, events along the real path, and human decisions."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev.harness import Running
from mindlinks_dev.problem import problem
from mindlinks_kyc.deps import KycDeps
from mindlinks_kyc.providers.local import LocalKycProvider
from mindlinks_kyc.providers.veriff import CLIENT_HEADER, SIGNATURE_HEADER, sign

if TYPE_CHECKING:
    from conftest import ContractorAccount, Contractors, Events

SESSIONS = "/v1/kyc/sessions"
WEBHOOK = "/v1/kyc/webhooks/veriff"


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def open_session(fleet: Running, account: ContractorAccount) -> dict[str, Any]:
    response = await fleet.client("kyc").post(SESSIONS, headers=account.headers)
    assert response.status_code == 201, response.text
    session: dict[str, Any] = response.json()
    return session


async def stored(kyc: KycDeps, session_id: str) -> dict[str, Any]:
    item = await kyc.runtime.table("sessions").get({"id": session_id})
    assert item is not None
    return item


def local(kyc: KycDeps) -> LocalKycProvider:
    assert kyc.providers.local is not None
    return kyc.providers.local


async def signed(
    kyc: KycDeps, session_id: str, status: str, decided_at: str | None = None, reason: str = ""
) -> tuple[bytes, dict[str, str]]:
    """A decision for ``session_id`` exactly as the local provider (and Veriff) sends it."""
    session = await stored(kyc, session_id)
    return local(kyc).signed_decision(
        provider_session_id=session["providerSessionId"],
        status=status,
        reason=reason or None,
        vendor_data=session["contractorId"],
        accepted_at=session["createdAt"],
        decided_at=decided_at,
    )


async def test_an_approval_travels_as_kyc_verified(
    fleet: Running, contractors: Contractors, events: Events, kyc: KycDeps
) -> None:
    grace = await contractors.create()
    session = await open_session(fleet, grace)
    response = await fleet.client("kyc").post(
        f"/v1/kyc/dev/sessions/{session['id']}/decide", json={"decision": "approved"}
    )
    assert response.status_code == 202, response.text
    assert response.json() == {
        "sessionId": session["id"],
        "decision": "approved",
        "webhookStatus": 200,
    }

    read = (
        await fleet.client("kyc").get(f"{SESSIONS}/{session['id']}", headers=grace.headers)
    ).json()
    assert read["status"] == "approved"
    assert read["decidedAt"] is not None
    assert (await stored(kyc, session["id"]))["decidedBy"] == "provider:local"

    [event] = await events.published("kyc.verified", session["id"])
    assert event["data"] == {
        "sessionId": session["id"],
        "contractorId": grace.contractor_id,
        "userId": grace.user_id,
        "provider": "local",
        "reason": None,
        # The local provider reports the document's name as Veriff does: here
        # the name the session was opened with.
        "verifiedLegalName": "Grace Hopper",
    }
    assert not event["sent"]
    assert await events.published("kyc.rejected", session["id"]) == []

    await fleet.deliver()
    [event] = await events.published("kyc.verified", session["id"])
    assert event["sent"]  # handed to EventBridge
    if contractors.real:
        assert (await contractors.profile(grace))["kycStatus"] == "verified"
    else:
        [envelope] = await events.queued_for_contractor(session["id"])
        assert envelope["source"] == "mindlinks.kyc"
        assert envelope["detail-type"] == "kyc.verified"
        assert envelope["detail"]["id"] == event["id"]


async def test_a_decline_travels_as_kyc_rejected_with_its_reason(
    fleet: Running, contractors: Contractors, events: Events
) -> None:
    grace = await contractors.create()
    session = await open_session(fleet, grace)
    response = await fleet.client("kyc").post(
        f"/v1/kyc/dev/sessions/{session['id']}/decide",
        json={"decision": "declined", "reason": "Physical document not used"},
    )
    assert response.status_code == 202, response.text
    read = (
        await fleet.client("kyc").get(f"{SESSIONS}/{session['id']}", headers=grace.headers)
    ).json()
    assert (read["status"], read["reason"]) == ("declined", "Physical document not used")

    [event] = await events.published("kyc.rejected", session["id"])
    assert event["data"]["reason"] == "Physical document not used"
    assert event["data"]["provider"] == "local"
    assert await events.published("kyc.verified", session["id"]) == []
    await fleet.deliver()
    if contractors.real:
        assert (await contractors.profile(grace))["kycStatus"] == "rejected"
    else:
        [envelope] = await events.queued_for_contractor(session["id"])
        assert envelope["detail-type"] == "kyc.rejected"


async def test_a_resubmission_request_keeps_the_session_open_without_an_event(
    fleet: Running, contractors: Contractors, events: Events
) -> None:
    grace = await contractors.create()
    session = await open_session(fleet, grace)
    decide = f"/v1/kyc/dev/sessions/{session['id']}/decide"
    resubmit = await fleet.client("kyc").post(
        decide, json={"decision": "resubmission_requested", "reason": "Video missing"}
    )
    assert resubmit.status_code == 202
    mine = (await fleet.client("kyc").get("/v1/kyc/me", headers=grace.headers)).json()
    assert (mine["status"], mine["session"]["status"]) == ("pending", "resubmission_requested")
    again = await fleet.client("kyc").post(SESSIONS, headers=grace.headers)
    assert (again.status_code, again.json()["id"]) == (200, session["id"])
    assert await events.published("kyc.verified", session["id"]) == []
    assert await events.published("kyc.rejected", session["id"]) == []

    assert (await fleet.client("kyc").post(decide, json={"decision": "approved"})).is_success
    assert len(await events.published("kyc.verified", session["id"])) == 1


async def test_a_bad_signature_is_refused_and_changes_nothing(
    fleet: Running, contractors: Contractors, events: Events, kyc: KycDeps
) -> None:
    grace = await contractors.create()
    session = await open_session(fleet, grace)
    before = await stored(kyc, session["id"])
    raw, headers = await signed(kyc, session["id"], "approved")
    tampered = raw.replace(b'"approved"', b'"declined"')
    forged = {**headers, SIGNATURE_HEADER: sign(raw, "not-the-shared-secret")}
    for body, sent in [
        (tampered, headers),
        (raw, forged),
        (raw, {**headers, CLIENT_HEADER: "someone-else"}),
        (raw, {k: v for k, v in headers.items() if k != SIGNATURE_HEADER}),
        (raw, {k: v for k, v in headers.items() if k != CLIENT_HEADER}),
        (raw, {**headers, SIGNATURE_HEADER: ""}),
    ]:
        response = await fleet.client("kyc").post(WEBHOOK, content=body, headers=sent)
        problem(response, 401, "invalid-signature")
    assert await stored(kyc, session["id"]) == before
    assert await events.published("kyc.verified", session["id"]) == []
    assert await events.published("kyc.rejected", session["id"]) == []


async def test_a_replayed_webhook_publishes_one_event(
    fleet: Running, contractors: Contractors, events: Events, kyc: KycDeps
) -> None:
    grace = await contractors.create()
    session = await open_session(fleet, grace)
    raw, headers = await signed(kyc, session["id"], "approved")
    first = await fleet.client("kyc").post(WEBHOOK, content=raw, headers=headers)
    replay = await fleet.client("kyc").post(WEBHOOK, content=raw, headers=headers)
    assert first.json() == {"outcome": "applied", "sessionId": session["id"], "status": "approved"}
    assert (replay.status_code, replay.json()["outcome"]) == (200, "duplicate")
    version = (await stored(kyc, session["id"]))["version"]
    await fleet.deliver()
    await fleet.client("kyc").post(WEBHOOK, content=raw, headers=headers)
    assert (await stored(kyc, session["id"]))["version"] == version
    assert len(await events.published("kyc.verified", session["id"])) == 1


async def test_concurrent_deliveries_of_one_decision_apply_it_once(
    fleet: Running, contractors: Contractors, events: Events, kyc: KycDeps
) -> None:
    grace = await contractors.create()
    session = await open_session(fleet, grace)
    raw, headers = await signed(kyc, session["id"], "declined", reason="Suspected fraud")
    responses = await asyncio.gather(
        *(fleet.client("kyc").post(WEBHOOK, content=raw, headers=headers) for _ in range(4))
    )
    assert [r.status_code for r in responses] == [200] * 4
    outcomes = sorted(r.json()["outcome"] for r in responses)
    assert outcomes == ["applied", "duplicate", "duplicate", "duplicate"]
    assert len(await events.published("kyc.rejected", session["id"])) == 1


async def test_a_stale_decision_is_refused(
    fleet: Running, contractors: Contractors, events: Events, kyc: KycDeps
) -> None:
    grace = await contractors.create()
    session = await open_session(fleet, grace)
    old = iso(datetime.now(UTC) - timedelta(hours=25))
    raw, headers = await signed(kyc, session["id"], "approved", decided_at=old)
    problem(
        await fleet.client("kyc").post(WEBHOOK, content=raw, headers=headers),
        400,
        "stale-decision",
    )
    assert (await stored(kyc, session["id"]))["status"] == "created"
    assert await events.published("kyc.verified", session["id"]) == []


async def test_an_older_decision_arriving_late_is_ignored(
    fleet: Running, contractors: Contractors, events: Events, kyc: KycDeps
) -> None:
    grace = await contractors.create()
    session = await open_session(fleet, grace)
    now = datetime.now(UTC)
    earlier, later = iso(now - timedelta(minutes=5)), iso(now - timedelta(minutes=1))
    approved = await signed(kyc, session["id"], "approved", decided_at=later)
    resubmit = await signed(kyc, session["id"], "resubmission_requested", decided_at=earlier)
    assert (
        await fleet.client("kyc").post(WEBHOOK, content=approved[0], headers=approved[1])
    ).json()["outcome"] == "applied"
    late = await fleet.client("kyc").post(WEBHOOK, content=resubmit[0], headers=resubmit[1])
    assert late.json() == {
        "outcome": "out_of_order",
        "sessionId": session["id"],
        "status": "approved",
    }
    assert (await stored(kyc, session["id"]))["status"] == "approved"


async def test_webhooks_that_decide_nothing_or_no_known_session(
    fleet: Running, contractors: Contractors, kyc: KycDeps
) -> None:
    secret = local(kyc).secret
    client = fleet.client("kyc")

    def send(body: Any) -> Any:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {CLIENT_HEADER: "local-kyc-client", SIGNATURE_HEADER: sign(raw, secret)}
        return client.post(WEBHOOK, content=raw, headers=headers)

    event = {"id": uuid.uuid4().hex, "action": "submitted", "feature": "selfid", "code": 7002}
    ignored = await send(event)
    assert (ignored.status_code, ignored.json()["outcome"]) == (200, "ignored")
    unknown = {"status": "success", "verification": {"id": uuid.uuid4().hex, "status": "approved"}}
    problem(await send(unknown), 404, "unknown-provider-session")
    problem(await send(b"{not json"), 400, "malformed-webhook")
    problem(await send([1, 2]), 400, "malformed-webhook")
    problem(await send({"verification": {"status": "approved"}}), 400, "malformed-webhook")
    grace = await contractors.create()
    session = await open_session(fleet, grace)
    provider_id = (await stored(kyc, session["id"]))["providerSessionId"]
    bad_time = {
        "verification": {"id": provider_id, "status": "approved", "decisionTime": "yesterday"}
    }
    problem(await send(bad_time), 400, "invalid-decision-time")
    problem(await client.post(WEBHOOK, content=b"x" * (1024 * 1024 + 1)), 413, "payload-too-large")
    onfido = await client.post("/v1/kyc/webhooks/onfido", content=b"{}")
    problem(onfido, 404, "provider-not-configured")


async def test_the_dev_route_checks_its_input(fleet: Running, contractors: Contractors) -> None:
    client = fleet.client("kyc")
    problem(
        await client.post(
            f"/v1/kyc/dev/sessions/{uuid.uuid4().hex}/decide", json={"decision": "approved"}
        ),
        404,
        "not-found",
    )
    grace = await contractors.create()
    session = await open_session(fleet, grace)
    decide = f"/v1/kyc/dev/sessions/{session['id']}/decide"
    for bad in [{"decision": "maybe"}, {}, {"decision": "declined", "reason": ""}]:
        problem(await client.post(decide, json=bad), 422, "invalid-input")


@pytest.mark.parametrize("service", ["contractor", "notification", "kyc"])
async def test_only_the_admin_service_records_human_decisions(
    fleet: Running, contractors: Contractors, service: str
) -> None:
    grace = await contractors.create()
    session = await open_session(fleet, grace)
    path = f"/internal/kyc/sessions/{session['id']}/decision"
    body = {"decision": "approved", "decidedBy": "admin-1"}
    client = fleet.client("kyc")
    problem(
        await client.post(path, json=body, headers=fleet.service_bearer(service)), 403, "forbidden"
    )
    problem(await client.post(path, json=body), 401, "unauthorized")
    admin_user = fleet.bearer(uuid.uuid4().hex, "admin")
    problem(await client.post(path, json=body, headers=admin_user), 401, "unauthorized")


async def test_an_admin_decision_goes_through_the_same_rules(
    fleet: Running, contractors: Contractors, events: Events, kyc: KycDeps
) -> None:
    grace = await contractors.create()
    session = await open_session(fleet, grace)
    path = f"/internal/kyc/sessions/{session['id']}/decision"
    admin = fleet.service_bearer("admin")
    client = fleet.client("kyc")

    approved = await client.post(
        path, json={"decision": "approved", "decidedBy": "admin-7"}, headers=admin
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["outcome"] == "applied"
    assert approved.json()["session"]["status"] == "approved"
    assert (await stored(kyc, session["id"]))["decidedBy"] == "admin:admin-7"
    again = await client.post(
        path, json={"decision": "approved", "decidedBy": "admin-7"}, headers=admin
    )
    assert again.json()["outcome"] == "duplicate"
    assert len(await events.published("kyc.verified", session["id"])) == 1

    revoked = await client.post(
        path,
        json={"decision": "declined", "reason": "Sanctions list match", "decidedBy": "admin-7"},
        headers=admin,
    )
    assert revoked.json()["session"]["status"] == "declined"
    [rejected] = await events.published("kyc.rejected", session["id"])
    assert rejected["data"]["reason"] == "Sanctions list match"

    unknown = f"/internal/kyc/sessions/{uuid.uuid4().hex}/decision"
    body = {"decision": "approved", "decidedBy": "admin-7"}
    problem(await client.post(unknown, json=body, headers=admin), 404, "not-found")
    for bad in [{"decision": "approved"}, {"decision": "expired", "decidedBy": "a"}, {}]:
        problem(await client.post(path, json=bad, headers=admin), 422, "invalid-input")
    await fleet.deliver()
    if contractors.real:
        assert (await contractors.profile(grace))["kycStatus"] == "rejected"


async def test_the_local_provider_reports_the_document_name_as_veriff_does(
    fleet: Running, contractors: Contractors, events: Events, kyc: KycDeps
) -> None:
    grace = await contractors.create("Grace Hopper")
    session = await open_session(fleet, grace)
    assert (await stored(kyc, session["id"]))["applicantName"] == "Grace Hopper"
    path = f"/v1/kyc/dev/sessions/{session['id']}/decide"
    for bad in ("", "   ", "x" * 201):
        refused = await fleet.client("kyc").post(
            path, json={"decision": "approved", "documentName": bad}
        )
        assert refused.status_code == 422, refused.text
    decided = await fleet.client("kyc").post(
        path, json={"decision": "approved", "documentName": "Grace  Brewster Hopper"}
    )
    assert decided.status_code == 202, decided.text
    [event] = await events.published("kyc.verified", session["id"])
    assert event["data"]["verifiedLegalName"] == "Grace Brewster Hopper"
    read = await fleet.client("kyc").get(f"{SESSIONS}/{session['id']}", headers=grace.headers)
    assert (read.json()["applicantName"], read.json()["verifiedLegalName"]) == (
        "Grace Hopper",
        "Grace Brewster Hopper",
    )
