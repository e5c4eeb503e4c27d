"""Veriff: sessions through ``POST /v1/sessions``, decisions through its signed
decision webhook.

- https://devdocs.veriff.com/apidocs/v1sessions
- https://devdocs.veriff.com/docs/decision-webhook (headers ``X-AUTH-CLIENT``
  = the integration's API key, ``X-HMAC-SIGNATURE`` = hex HMAC-SHA256 of the
  raw body with the shared secret)

The webhook helpers here are also the local provider's: it signs and parses the
very same format.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import httpx

from mindlinks_kit.breaker import AsyncBreaker
from mindlinks_kyc.providers import (
    Applicant,
    Decision,
    DecisionStatus,
    InvalidSignature,
    MalformedWebhook,
    ProviderFailed,
    ProviderSession,
)
from mindlinks_kyc.providers.transport import call, field

CLIENT_HEADER = "X-AUTH-CLIENT"
SIGNATURE_HEADER = "X-HMAC-SIGNATURE"
STATUSES: dict[str, DecisionStatus] = {
    "approved": "approved",
    "declined": "declined",
    "resubmission_requested": "resubmission_requested",
    "review": "in_review",
    "expired": "expired",
    "abandoned": "expired",
}
MAX_NAME = 200
CODES = {
    "approved": 9001,
    "declined": 9102,
    "resubmission_requested": 9103,
    "expired": 9104,
    "abandoned": 9121,
}


def sign(raw_body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()


def verify_signature(
    raw_body: bytes, headers: Mapping[str, str], *, api_key: str, secret: str
) -> None:
    """Both headers present and right, compared in constant time."""
    client = headers.get(CLIENT_HEADER.lower()) or headers.get(CLIENT_HEADER) or ""
    signature = headers.get(SIGNATURE_HEADER.lower()) or headers.get(SIGNATURE_HEADER) or ""
    expected = sign(raw_body, secret)
    client_ok = hmac.compare_digest(client.encode(), api_key.encode())
    signature_ok = hmac.compare_digest(signature.strip().lower().encode(), expected.encode())
    if not (client_ok and signature_ok):
        raise InvalidSignature()


def parse_decision(raw_body: bytes) -> Decision | None:
    """A decision webhook's decision; ``None`` for Veriff's other webhooks
    (session events such as ``started``/``submitted`` carry no ``verification``)."""
    try:
        body = json.loads(raw_body)
    except ValueError:
        raise MalformedWebhook("The body is not JSON") from None
    if not isinstance(body, dict):
        raise MalformedWebhook("The body is not a JSON object")
    verification = body.get("verification")
    if verification is None and ("action" in body or "feature" in body):
        return None  # an event webhook: progress, not a decision
    if not isinstance(verification, dict):
        raise MalformedWebhook("No verification object")
    session_id = verification.get("id")
    status = verification.get("status")
    if not isinstance(session_id, str) or not session_id or not isinstance(status, str):
        raise MalformedWebhook("The verification has no id or status")
    mapped = STATUSES.get(status)
    if mapped is None:
        return None
    reason = verification.get("reason")
    decided_at = verification.get("decisionTime")
    code = verification.get("code")
    return Decision(
        provider_session_id=session_id,
        status=mapped,
        reason=str(reason)[:500] if reason else None,
        decided_at=decided_at if isinstance(decided_at, str) and decided_at else None,
        code=str(code) if code is not None else None,
        person_name=person_name(verification.get("person")),
    )


def person_name(person: Any) -> str | None:
    """``firstName`` + ``lastName`` as Veriff read them off the document, or
    ``None`` when it reports neither (the fields are null on some decisions)."""
    if not isinstance(person, dict):
        return None
    parts = (person.get("firstName"), person.get("lastName"))
    name = " ".join(" ".join(p.split()) for p in parts if isinstance(p, str) and p.strip())
    return name[:MAX_NAME] or None


def reported_person(name: str | None) -> dict[str, str]:
    """A name as Veriff's decision reports it in ``person`` (first word, the rest)."""
    words = (name or "").split()
    if not words:
        return {}
    found = {"firstName": words[0]}
    if len(words) > 1:
        found["lastName"] = " ".join(words[1:])
    return found


def decision_body(
    *,
    verification_id: str,
    attempt_id: str,
    status: str,
    reason: str | None,
    vendor_data: str,
    decision_time: str,
    acceptance_time: str,
    person: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A decision webhook body in Veriff's shape (the local provider sends it)."""
    return {
        "status": "success",
        "verification": {
            "id": verification_id,
            "attemptId": attempt_id,
            "vendorData": vendor_data,
            "endUserId": None,
            "status": status,
            "code": CODES.get(status, 9102),
            "reason": reason,
            "reasonCode": None,
            "decisionTime": decision_time,
            "acceptanceTime": acceptance_time,
            "person": dict(person or {}),
            "document": {},
            "additionalVerifiedData": {},
        },
        "technicalData": {"ip": None},
    }


def _describe(response: httpx.Response) -> str:
    """Veriff's error body is ``{"status": "fail", "code": "1102", "message": ...}``."""
    try:
        body = response.json()
    except ValueError:
        body = None
    message = field(body, "message")
    code = field(body, "code")
    text = f"{message} (code {code})" if message and code else message
    return str(text or response.reason_phrase or "no detail")[:500]


class VeriffProvider:
    name = "veriff"

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        api_key: str,
        shared_secret: str,
        callback_url: str,
        base_url: str = "https://stationapi.veriff.com",
        timeout: float = 10.0,
        fail_max: int = 5,
        reset_timeout: float = 30.0,
    ) -> None:
        self.client = client
        self.api_key = api_key
        self.shared_secret = shared_secret
        self.callback_url = callback_url
        self.url = base_url.rstrip("/") + "/v1/sessions"
        self.timeout = timeout
        self.breaker = AsyncBreaker("veriff", fail_max, reset_timeout)

    def session_request(self, applicant: Applicant) -> dict[str, Any]:
        first, last = applicant.first_and_last
        person = {"firstName": first}
        if last:
            person["lastName"] = last
        return {
            "verification": {
                "callback": self.callback_url,
                "person": person,
                "vendorData": applicant.contractor_id,
            }
        }

    async def create_session(self, applicant: Applicant) -> ProviderSession:
        body = await call(
            self.client,
            self.breaker,
            "POST",
            self.url,
            provider=self.name,
            headers={CLIENT_HEADER: self.api_key, "Content-Type": "application/json"},
            json=self.session_request(applicant),
            timeout=self.timeout,
            describe=_describe,
        )
        session_id = field(body, "verification", "id")
        url = field(body, "verification", "url")
        if body.get("status") != "success" or not session_id or not url:
            raise ProviderFailed("veriff answered without a session id and URL", provider="veriff")
        return ProviderSession(str(session_id), str(url))

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> Decision | None:
        verify_signature(raw_body, headers, api_key=self.api_key, secret=self.shared_secret)
        return parse_decision(raw_body)
