"""The real Veriff and Onfido adapters against their HTTP boundary (respx), and
their webhooks signed with their real schemes."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest
import respx

from mindlinks_kyc.providers import Applicant, InvalidSignature, ProviderFailed, ProviderSession
from mindlinks_kyc.providers.onfido import OnfidoProvider
from mindlinks_kyc.providers.veriff import VeriffProvider, parse_decision

VERIFF_SESSIONS = "https://stationapi.veriff.com/v1/sessions"
ONFIDO = "https://api.eu.onfido.com/v3.6"
GRACE = Applicant(
    contractor_id="c-1", name="Grace Brewster Hopper", email="grace@example.com", reference="s-1"
)


def veriff(client: httpx.AsyncClient, fail_max: int = 5) -> VeriffProvider:
    return VeriffProvider(
        client=client,
        api_key="veriff-api-key",
        shared_secret="veriff-shared-secret",
        callback_url="https://app.example/kyc/complete",
        fail_max=fail_max,
    )


def onfido(client: httpx.AsyncClient) -> OnfidoProvider:
    return OnfidoProvider(
        client=client,
        api_token="api_sandbox.token",
        webhook_token="onfido-webhook-token",
        workflow_id="wf-1",
        completed_url="https://app.example/kyc/complete",
    )


def hmac_hex(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def veriff_decision(status: str, **verification: Any) -> bytes:
    """A decision webhook body as Veriff documents it (abridged)."""
    body = {
        "status": "success",
        "verification": {
            "id": "12df6045-3846-3e45-946a-14fa6136d78b",
            "attemptId": "00bca969-b53a-4fad-b065-572a4a4ab3c3",
            "vendorData": "c-1",
            "endUserId": None,
            "status": status,
            "code": {"approved": 9001, "declined": 9102}.get(status, 9103),
            "reason": None,
            "reasonCode": None,
            "decisionTime": "2026-11-21T10:00:00.000Z",
            "acceptanceTime": "2026-11-21T09:55:00.000Z",
            "person": {"firstName": "GRACE", "lastName": "HOPPER"},
            "document": {"type": "PASSPORT", "country": "US"},
            **verification,
        },
        "technicalData": {"ip": "203.0.113.7"},
    }
    return json.dumps(body).encode()


async def test_veriff_sessions_are_created_as_veriff_documents(
    http: httpx.AsyncClient, outside: respx.MockRouter
) -> None:
    route = outside.post(VERIFF_SESSIONS).mock(
        return_value=httpx.Response(
            201,
            json={
                "status": "success",
                "verification": {
                    "id": "f04bdb47-d3be-4b28-b028-a652feb060b5",
                    "url": "https://alchemy.veriff.com/v/eyJhbGciOi",
                    "vendorData": "c-1",
                    "host": "https://alchemy.veriff.com",
                    "status": "created",
                    "sessionToken": "eyJhbGciOi",
                },
            },
        )
    )
    opened = await veriff(http).create_session(GRACE)
    assert opened == ProviderSession(
        "f04bdb47-d3be-4b28-b028-a652feb060b5", "https://alchemy.veriff.com/v/eyJhbGciOi"
    )
    request = route.calls.last.request
    assert request.headers["x-auth-client"] == "veriff-api-key"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "verification": {
            "callback": "https://app.example/kyc/complete",
            "person": {"firstName": "Grace", "lastName": "Brewster Hopper"},
            "vendorData": "c-1",
        }
    }
    assert "grace@example.com" not in request.content.decode()  # no more than needed

    mononym = Applicant(contractor_id="c-2", name="Cher", email="c@example.com", reference="s")
    await veriff(http).create_session(mononym)
    person = json.loads(route.calls.last.request.content)["verification"]["person"]
    assert person == {"firstName": "Cher"}


async def test_veriff_refusals_and_outages_are_502_problems(
    http: httpx.AsyncClient, outside: respx.MockRouter
) -> None:
    route = outside.post(VERIFF_SESSIONS)
    route.mock(
        return_value=httpx.Response(
            400,
            json={
                "status": "fail",
                "code": "1102",
                "message": "Mandatory parameters are missing from the request.",
            },
        )
    )
    with pytest.raises(ProviderFailed, match="Mandatory parameters") as raised:
        await veriff(http).create_session(GRACE)
    assert raised.value.status == 502
    assert raised.value.extensions == {"provider": "veriff", "providerStatus": 400}

    route.mock(return_value=httpx.Response(401, json={"status": "fail", "code": "1801"}))
    with pytest.raises(ProviderFailed, match="401"):
        await veriff(http).create_session(GRACE)
    route.mock(return_value=httpx.Response(200, json={"status": "success", "verification": {}}))
    with pytest.raises(ProviderFailed, match="without a session id"):
        await veriff(http).create_session(GRACE)
    route.mock(return_value=httpx.Response(200, text="<html>"))
    with pytest.raises(ProviderFailed, match="no JSON"):
        await veriff(http).create_session(GRACE)

    provider = veriff(http, fail_max=2)
    route.mock(return_value=httpx.Response(503, text="maintenance"))
    with pytest.raises(ProviderFailed, match="unavailable"):
        await provider.create_session(GRACE)
    route.mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(ProviderFailed, match="ConnectError"):
        await provider.create_session(GRACE)
    calls = route.call_count
    with pytest.raises(ProviderFailed, match="circuit open"):
        await provider.create_session(GRACE)
    assert route.call_count == calls  # the breaker spared Veriff


def test_veriff_decisions_verify_with_the_shared_secret(http: httpx.AsyncClient) -> None:
    provider = veriff(http)
    raw = veriff_decision("approved")
    headers = {
        "X-AUTH-CLIENT": "veriff-api-key",
        "X-HMAC-SIGNATURE": hmac_hex("veriff-shared-secret", raw),
    }
    decision = provider.verify_webhook(raw, headers)
    assert decision is not None
    assert (decision.provider_session_id, decision.status, decision.code) == (
        "12df6045-3846-3e45-946a-14fa6136d78b",
        "approved",
        "9001",
    )
    assert decision.decided_at == "2026-11-21T10:00:00.000Z"
    assert decision.reason is None
    assert decision.person_name == "GRACE HOPPER"  # as read off the document
    upper = {**headers, "X-HMAC-SIGNATURE": headers["X-HMAC-SIGNATURE"].upper()}
    assert provider.verify_webhook(raw, httpx.Headers(upper)) == decision

    declined = veriff_decision("declined", reason="Physical document not used", reasonCode=102)
    signed = {**headers, "X-HMAC-SIGNATURE": hmac_hex("veriff-shared-secret", declined)}
    found = provider.verify_webhook(declined, signed)
    assert found is not None
    assert (found.status, found.reason) == ("declined", "Physical document not used")
    for status, expected in [
        ("resubmission_requested", "resubmission_requested"),
        ("review", "in_review"),
        ("expired", "expired"),
        ("abandoned", "expired"),
    ]:
        body = veriff_decision(status, decisionTime=None)
        got = provider.verify_webhook(
            body, {**headers, "X-HMAC-SIGNATURE": hmac_hex("veriff-shared-secret", body)}
        )
        assert got is not None
        assert (got.status, got.decided_at) == (expected, None)

    for bad in [
        {**headers, "X-HMAC-SIGNATURE": hmac_hex("another-secret", raw)},
        {**headers, "X-AUTH-CLIENT": "another-integration"},
        {"X-AUTH-CLIENT": "veriff-api-key"},
        {},
    ]:
        with pytest.raises(InvalidSignature):
            provider.verify_webhook(raw, bad)
    with pytest.raises(InvalidSignature):
        provider.verify_webhook(veriff_decision("declined"), headers)


async def test_onfido_sessions_are_an_applicant_and_a_workflow_run(
    http: httpx.AsyncClient, outside: respx.MockRouter
) -> None:
    applicants = outside.post(f"{ONFIDO}/applicants").mock(
        return_value=httpx.Response(
            201, json={"id": "6a1c1b3b-applicant", "first_name": "Grace", "last_name": "Hopper"}
        )
    )
    runs = outside.post(f"{ONFIDO}/workflow_runs").mock(
        return_value=httpx.Response(
            201,
            json={
                "id": "wr-7f3b",
                "applicant_id": "6a1c1b3b-applicant",
                "workflow_id": "wf-1",
                "status": "awaiting_input",
                "link": {"url": "https://eu.onfido.app/l/abc123", "expires_at": None},
            },
        )
    )
    opened = await onfido(http).create_session(GRACE)
    assert opened == ProviderSession("wr-7f3b", "https://eu.onfido.app/l/abc123")
    for route in (applicants, runs):
        assert route.calls.last.request.headers["authorization"] == "Token token=api_sandbox.token"
    assert json.loads(applicants.calls.last.request.content) == {
        "first_name": "Grace",
        "last_name": "Brewster Hopper",
        "email": "grace@example.com",
    }
    assert json.loads(runs.calls.last.request.content) == {
        "workflow_id": "wf-1",
        "applicant_id": "6a1c1b3b-applicant",
        "customer_user_id": "c-1",
        "link": {"completed_redirect_url": "https://app.example/kyc/complete"},
    }


async def test_onfido_refusals_are_502_problems(
    http: httpx.AsyncClient, outside: respx.MockRouter
) -> None:
    applicants = outside.post(f"{ONFIDO}/applicants")
    applicants.mock(
        return_value=httpx.Response(
            422,
            json={
                "error": {
                    "type": "validation_error",
                    "message": "There was a validation error on this request",
                    "fields": {"email": ["invalid format"]},
                }
            },
        )
    )
    with pytest.raises(ProviderFailed, match="validation_error: There was a validation") as raised:
        await onfido(http).create_session(GRACE)
    assert "invalid format" in raised.value.detail
    assert raised.value.extensions["providerStatus"] == 422

    applicants.mock(return_value=httpx.Response(201, json={"id": "app-1"}))
    runs = outside.post(f"{ONFIDO}/workflow_runs")
    runs.mock(return_value=httpx.Response(201, json={"id": "wr-1", "status": "awaiting_input"}))
    with pytest.raises(ProviderFailed, match="workflow run link"):
        await onfido(http).create_session(GRACE)
    runs.mock(
        return_value=httpx.Response(
            404, json={"error": {"type": "resource_not_found", "message": "Workflow not found"}}
        )
    )
    with pytest.raises(ProviderFailed, match="Workflow not found"):
        await onfido(http).create_session(GRACE)


def onfido_event(action: str, **run: Any) -> bytes:
    return json.dumps(
        {
            "payload": {
                "resource_type": action.split(".")[0],
                "action": action,
                "object": {
                    "id": "wr-7f3b",
                    "status": "approved",
                    "completed_at_iso8601": "2026-11-21T10:00:00Z",
                    "href": "https://api.eu.onfido.com/v3.6/workflow_runs/wr-7f3b",
                    **run,
                },
            }
        }
    ).encode()


def test_onfido_webhooks_verify_with_the_webhook_token(http: httpx.AsyncClient) -> None:
    provider = onfido(http)

    def signed(raw: bytes) -> dict[str, str]:
        return {"X-SHA2-Signature": hmac_hex("onfido-webhook-token", raw)}

    approved = onfido_event("workflow_run.completed")
    decision = provider.verify_webhook(approved, signed(approved))
    assert decision is not None
    assert (decision.provider_session_id, decision.status, decision.decided_at) == (
        "wr-7f3b",
        "approved",
        "2026-11-21T10:00:00Z",
    )
    declined = onfido_event("workflow_run.completed", status="declined")
    found = provider.verify_webhook(declined, signed(declined))
    assert found is not None
    assert (found.status, found.reason) == ("declined", "onfido workflow run declined")
    review = onfido_event("workflow_run.completed", status="review")
    assert getattr(provider.verify_webhook(review, signed(review)), "status", None) == "in_review"
    for ignored in [
        onfido_event("check.completed", status="complete", result="clear"),
        onfido_event("workflow_run.completed", status="error"),
        onfido_event("workflow_task.started"),
    ]:
        assert provider.verify_webhook(ignored, signed(ignored)) is None

    with pytest.raises(InvalidSignature):
        provider.verify_webhook(approved, signed(declined))
    with pytest.raises(InvalidSignature):
        provider.verify_webhook(approved, {})
    with pytest.raises(InvalidSignature):
        provider.verify_webhook(approved, {"X-SHA2-Signature": hmac_hex("other", approved)})


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ({"firstName": "GRACE", "lastName": "BREWSTER  HOPPER"}, "GRACE BREWSTER HOPPER"),
        ({"firstName": "CHER", "lastName": None}, "CHER"),
        ({"firstName": None, "lastName": None}, None),
        ({}, None),
        (None, None),
        ("GRACE HOPPER", None),
    ],
)
def test_the_name_veriff_reports_is_read_from_person(person: Any, expected: str | None) -> None:
    decision = parse_decision(veriff_decision("approved", person=person))
    assert decision is not None
    assert decision.person_name == expected
