"""The kyc app with real providers configured: sessions opened at Veriff or
Onfido (their HTTP boundary mocked with respx) and decided by webhooks signed
with their real schemes."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import respx

from mindlinks_dev.harness import Running
from mindlinks_dev.problem import problem
from mindlinks_kyc.app import create
from mindlinks_kyc.deps import KycDeps
from mindlinks_kyc.settings import Settings

if TYPE_CHECKING:
    from conftest import Contractors, Events, StartKyc

VERIFF_SESSIONS = "https://stationapi.veriff.com/v1/sessions"
ONFIDO = "https://api.eu.onfido.com/v3.6"
SESSIONS = "/v1/kyc/sessions"
PROVIDERS: dict[str, Any] = {
    "veriff_api_key": "veriff-api-key",
    "veriff_shared_secret": "veriff-shared-secret",
    "onfido_api_token": "api_sandbox.token",
    "onfido_webhook_token": "onfido-webhook-token",
    "onfido_workflow_id": "wf-1",
}


def hmac_hex(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture(scope="module")
async def fleet(
    start_kyc: StartKyc, directory: dict[str, dict[str, Any]] | None
) -> AsyncIterator[Running]:
    """This module's kyc app has Veriff and Onfido keys (Veriff opens sessions)."""
    async with start_kyc(directory, kyc=lambda: create(Settings(**PROVIDERS))) as running:
        assert running.deps("kyc").providers.local is None
        yield running


def veriff_session(provider_id: str) -> httpx.Response:
    return httpx.Response(
        201,
        json={
            "status": "success",
            "verification": {
                "id": provider_id,
                "url": f"https://alchemy.veriff.com/v/{provider_id}",
                "vendorData": "ignored",
                "host": "https://alchemy.veriff.com",
                "status": "created",
                "sessionToken": "token",
            },
        },
    )


async def test_a_veriff_session_is_decided_by_veriffs_signed_webhook(
    fleet: Running, contractors: Contractors, events: Events, outside: respx.MockRouter
) -> None:
    grace = await contractors.create()
    provider_id = str(uuid.uuid4())
    route = outside.post(VERIFF_SESSIONS).mock(return_value=veriff_session(provider_id))
    opened = await fleet.client("kyc").post(SESSIONS, headers=grace.headers)
    assert opened.status_code == 201, opened.text
    session = opened.json()
    assert session["provider"] == "veriff"
    assert session["verificationUrl"] == f"https://alchemy.veriff.com/v/{provider_id}"
    sent = json.loads(route.calls.last.request.content)["verification"]
    assert sent["vendorData"] == grace.contractor_id
    assert sent["callback"] == "http://localhost:8080/kyc/complete"

    raw = json.dumps(
        {
            "status": "success",
            "verification": {
                "id": provider_id,
                "attemptId": str(uuid.uuid4()),
                "vendorData": grace.contractor_id,
                "status": "approved",
                "code": 9001,
                "reason": None,
                "reasonCode": None,
                "decisionTime": now(),
                "acceptanceTime": now(),
            },
            "technicalData": {"ip": "203.0.113.7"},
        }
    ).encode()
    headers = {
        "X-AUTH-CLIENT": "veriff-api-key",
        "X-HMAC-SIGNATURE": hmac_hex("veriff-shared-secret", raw),
        "Content-Type": "application/json",
    }
    decided = await fleet.client("kyc").post(
        "/v1/kyc/webhooks/veriff", content=raw, headers=headers
    )
    assert decided.json() == {
        "outcome": "applied",
        "sessionId": session["id"],
        "status": "approved",
    }
    [event] = await events.published("kyc.verified", session["id"])
    assert event["data"]["provider"] == "veriff"

    local_signed = {**headers, "X-AUTH-CLIENT": "local-kyc-client"}
    local_signed["X-HMAC-SIGNATURE"] = hmac_hex("local-kyc-webhook-secret", raw)
    forged = await fleet.client("kyc").post(
        "/v1/kyc/webhooks/veriff", content=raw, headers=local_signed
    )
    problem(forged, 401, "invalid-signature")  # the local secret means nothing here
    problem(
        await fleet.client("kyc").post(
            f"/v1/kyc/dev/sessions/{session['id']}/decide", json={"decision": "declined"}
        ),
        404,
        "provider-not-configured",
    )


async def test_a_veriff_outage_leaves_nothing_behind(
    fleet: Running, contractors: Contractors, outside: respx.MockRouter
) -> None:
    grace = await contractors.create()
    route = outside.post(VERIFF_SESSIONS)
    route.mock(return_value=httpx.Response(500, json={"status": "fail", "message": "oops"}))
    headers = {**grace.headers, "Idempotency-Key": uuid.uuid4().hex}
    problem(await fleet.client("kyc").post(SESSIONS, headers=headers), 502, "kyc-provider-failed")
    mine = await fleet.client("kyc").get("/v1/kyc/me", headers=grace.headers)
    assert mine.json() == {"status": "not_started", "session": None}

    route.mock(return_value=veriff_session(str(uuid.uuid4())))
    retried = await fleet.client("kyc").post(SESSIONS, headers=headers)
    assert retried.status_code == 201, retried.text  # the same key may try again


async def test_an_onfido_session_is_decided_by_onfidos_signed_webhook(
    fleet: Running, contractors: Contractors, events: Events, outside: respx.MockRouter
) -> None:
    kyc: KycDeps = fleet.deps("kyc")
    veriff = kyc.providers.opening
    kyc.providers.opening = kyc.providers.webhooks["onfido"]
    try:
        grace = await contractors.create()
        run_id = f"wr-{uuid.uuid4().hex[:8]}"
        outside.post(f"{ONFIDO}/applicants").mock(
            return_value=httpx.Response(201, json={"id": "applicant-1"})
        )
        outside.post(f"{ONFIDO}/workflow_runs").mock(
            return_value=httpx.Response(
                201,
                json={"id": run_id, "status": "awaiting_input", "link": {"url": "https://o/l/1"}},
            )
        )
        opened = await fleet.client("kyc").post(SESSIONS, headers=grace.headers)
        assert opened.status_code == 201, opened.text
        session = opened.json()
        assert (session["provider"], session["verificationUrl"]) == ("onfido", "https://o/l/1")
    finally:
        kyc.providers.opening = veriff

    raw = json.dumps(
        {
            "payload": {
                "resource_type": "workflow_run",
                "action": "workflow_run.completed",
                "object": {
                    "id": run_id,
                    "status": "declined",
                    "completed_at_iso8601": now(),
                    "href": f"https://api.eu.onfido.com/v3.6/workflow_runs/{run_id}",
                },
            }
        }
    ).encode()
    signature = {"X-SHA2-Signature": hmac_hex("onfido-webhook-token", raw)}
    onfido = "/v1/kyc/webhooks/onfido"
    decided = await fleet.client("kyc").post(onfido, content=raw, headers=signature)
    assert decided.json()["outcome"] == "applied"
    [event] = await events.published("kyc.rejected", session["id"])
    assert event["data"]["provider"] == "onfido"
    assert event["data"]["reason"] == "onfido workflow run declined"

    # A genuine Veriff decision cannot decide an Onfido session.
    veriff_raw = json.dumps(
        {"status": "success", "verification": {"id": run_id, "status": "approved"}}
    ).encode()
    veriff_headers = {
        "X-AUTH-CLIENT": "veriff-api-key",
        "X-HMAC-SIGNATURE": hmac_hex("veriff-shared-secret", veriff_raw),
    }
    wrong_provider = await fleet.client("kyc").post(
        "/v1/kyc/webhooks/veriff", content=veriff_raw, headers=veriff_headers
    )
    problem(wrong_provider, 404, "unknown-provider-session")
    problem(
        await fleet.client("kyc").post(onfido, content=raw, headers={"X-SHA2-Signature": "00"}),
        401,
        "invalid-signature",
    )


def veriff_decision(provider_id: str, status: str, **verification: Any) -> bytes:
    body = {
        "status": "success",
        "verification": {
            "id": provider_id,
            "attemptId": str(uuid.uuid4()),
            "status": status,
            "code": 9001,
            "reason": None,
            "decisionTime": now(),
            "acceptanceTime": now(),
            **verification,
        },
    }
    return json.dumps(body).encode()


def veriff_signed(raw: bytes) -> dict[str, str]:
    return {
        "X-AUTH-CLIENT": "veriff-api-key",
        "X-HMAC-SIGNATURE": hmac_hex("veriff-shared-secret", raw),
        "Content-Type": "application/json",
    }


async def test_veriff_decisions_must_be_dated_and_not_ahead_of_our_clock(
    fleet: Running, contractors: Contractors, events: Events, outside: respx.MockRouter
) -> None:
    """Veriff signs only the body, so its decision time is the only freshness
    evidence: one without it (replayable forever) or more than the allowed
    clock skew ahead (it would outrank every later decision) is refused and
    changes nothing; a few seconds of skew is fine."""
    grace = await contractors.create()
    provider_id = str(uuid.uuid4())
    outside.post(VERIFF_SESSIONS).mock(return_value=veriff_session(provider_id))
    opened = await fleet.client("kyc").post(SESSIONS, headers=grace.headers)
    assert opened.status_code == 201, opened.text
    session = opened.json()
    webhook = "/v1/kyc/webhooks/veriff"
    client = fleet.client("kyc")

    ahead = datetime.now(UTC) + timedelta(seconds=301 + 5)
    refused = {
        "missing-decision-time": [
            veriff_decision(provider_id, "approved", decisionTime=None),
            veriff_decision(provider_id, "review", decisionTime=None),
            veriff_decision(provider_id, "approved", decisionTime=""),
        ],
        "future-decision": [
            veriff_decision(provider_id, "approved", decisionTime=ahead.isoformat()),
            veriff_decision(provider_id, "declined", decisionTime="2099-01-01T00:00:00.000Z"),
        ],
    }
    for code, bodies in refused.items():
        for raw in bodies:
            problem(await client.post(webhook, content=raw, headers=veriff_signed(raw)), 400, code)
    mine = await client.get(f"{SESSIONS}/{session['id']}", headers=grace.headers)
    assert (mine.json()["status"], mine.json()["decidedAt"]) == ("created", None)
    assert await events.published("kyc.verified", session["id"]) == []
    assert await events.published("kyc.rejected", session["id"]) == []

    skewed = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    raw = veriff_decision(provider_id, "approved", decisionTime=skewed)
    decided = await client.post(webhook, content=raw, headers=veriff_signed(raw))
    assert decided.status_code == 200, decided.text
    assert decided.json()["outcome"] == "applied"
    assert len(await events.published("kyc.verified", session["id"])) == 1


async def test_onfido_decisions_must_be_dated_and_not_ahead_of_our_clock(
    fleet: Running, contractors: Contractors, events: Events, outside: respx.MockRouter
) -> None:
    kyc: KycDeps = fleet.deps("kyc")
    veriff = kyc.providers.opening
    kyc.providers.opening = kyc.providers.webhooks["onfido"]
    try:
        grace = await contractors.create()
        run_id = f"wr-{uuid.uuid4().hex[:8]}"
        outside.post(f"{ONFIDO}/applicants").mock(
            return_value=httpx.Response(201, json={"id": "applicant-1"})
        )
        outside.post(f"{ONFIDO}/workflow_runs").mock(
            return_value=httpx.Response(
                201, json={"id": run_id, "status": "awaiting_input", "link": {"url": "https://o/l"}}
            )
        )
        opened = await fleet.client("kyc").post(SESSIONS, headers=grace.headers)
        assert opened.status_code == 201, opened.text
        session = opened.json()
    finally:
        kyc.providers.opening = veriff

    def completed(**run: Any) -> bytes:
        body = {"id": run_id, "status": "approved", **run}
        return json.dumps(
            {"payload": {"action": "workflow_run.completed", "object": body}}
        ).encode()

    onfido = "/v1/kyc/webhooks/onfido"
    client = fleet.client("kyc")
    for raw, code in [
        (completed(), "missing-decision-time"),
        (completed(completed_at_iso8601="2099-01-01T00:00:00Z"), "future-decision"),
    ]:
        signature = {"X-SHA2-Signature": hmac_hex("onfido-webhook-token", raw)}
        problem(await client.post(onfido, content=raw, headers=signature), 400, code)
    assert await events.published("kyc.verified", session["id"]) == []
    raw = completed(completed_at_iso8601=now())
    signature = {"X-SHA2-Signature": hmac_hex("onfido-webhook-token", raw)}
    assert (await client.post(onfido, content=raw, headers=signature)).json()[
        "outcome"
    ] == "applied"
