"""Onfido (API v3.6): an applicant, then a Studio workflow run whose hosted link
the contractor follows; the decision arrives as the signed
``workflow_run.completed`` webhook.

- https://documentation.onfido.com/api/latest/#create-applicant
- https://documentation.onfido.com/api/latest/#create-workflow-run (``link.url``)
- https://documentation.onfido.com/api/latest/#webhooks (``X-SHA2-Signature``
  = hex HMAC-SHA256 of the raw body with the webhook token)

Checks run inside the workflow, so the run's completion carries the decision;
``check.completed`` and other events decide nothing here.
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

API_VERSION = "v3.6"
SIGNATURE_HEADER = "X-SHA2-Signature"
STATUSES: dict[str, DecisionStatus] = {
    "approved": "approved",
    "declined": "declined",
    "review": "in_review",
    "abandoned": "expired",
}
"""Workflow run outcomes; ``error`` (Onfido could not finish) decides nothing."""


def sign(raw_body: bytes, token: str) -> str:
    return hmac.new(token.encode(), raw_body, hashlib.sha256).hexdigest()


def _describe(response: httpx.Response) -> str:
    """Onfido's error body is ``{"error": {"type", "message", "fields"}}``."""
    try:
        body = response.json()
    except ValueError:
        body = None
    message = field(body, "error", "message")
    kind = field(body, "error", "type")
    fields = field(body, "error", "fields")
    text = f"{kind}: {message}" if kind and message else message
    if text and fields:
        text = f"{text} {json.dumps(fields)}"
    return str(text or response.reason_phrase or "no detail")[:500]


class OnfidoProvider:
    name = "onfido"

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        api_token: str,
        webhook_token: str,
        workflow_id: str,
        completed_url: str,
        base_url: str = "https://api.eu.onfido.com",
        timeout: float = 10.0,
        fail_max: int = 5,
        reset_timeout: float = 30.0,
    ) -> None:
        self.client = client
        self.webhook_token = webhook_token
        self.workflow_id = workflow_id
        self.completed_url = completed_url
        self.api = f"{base_url.rstrip('/')}/{API_VERSION}"
        self.timeout = timeout
        self.headers = {
            "Authorization": f"Token token={api_token}",
            "Content-Type": "application/json",
        }
        self.breaker = AsyncBreaker("onfido", fail_max, reset_timeout)

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return await call(
            self.client,
            self.breaker,
            "POST",
            self.api + path,
            provider=self.name,
            headers=self.headers,
            json=body,
            timeout=self.timeout,
            describe=_describe,
        )

    def applicant_request(self, applicant: Applicant) -> dict[str, Any]:
        first, last = applicant.first_and_last
        # Onfido requires both names; a mononym is sent as both.
        return {"first_name": first, "last_name": last or first, "email": applicant.email}

    def workflow_run_request(self, applicant_id: str, applicant: Applicant) -> dict[str, Any]:
        return {
            "workflow_id": self.workflow_id,
            "applicant_id": applicant_id,
            "customer_user_id": applicant.contractor_id,
            "link": {"completed_redirect_url": self.completed_url},
        }

    async def create_session(self, applicant: Applicant) -> ProviderSession:
        created = await self._post("/applicants", self.applicant_request(applicant))
        applicant_id = created.get("id")
        if not isinstance(applicant_id, str) or not applicant_id:
            raise ProviderFailed("onfido answered without an applicant id", provider=self.name)
        run = await self._post("/workflow_runs", self.workflow_run_request(applicant_id, applicant))
        run_id = run.get("id")
        url = field(run, "link", "url")
        if not isinstance(run_id, str) or not run_id or not isinstance(url, str) or not url:
            raise ProviderFailed("onfido answered without a workflow run link", provider=self.name)
        return ProviderSession(run_id, url)

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> Decision | None:
        signature = headers.get(SIGNATURE_HEADER.lower()) or headers.get(SIGNATURE_HEADER) or ""
        expected = sign(raw_body, self.webhook_token)
        if not hmac.compare_digest(signature.strip().lower().encode(), expected.encode()):
            raise InvalidSignature()
        return parse_decision(raw_body)


def parse_decision(raw_body: bytes) -> Decision | None:
    try:
        body = json.loads(raw_body)
    except ValueError:
        raise MalformedWebhook("The body is not JSON") from None
    payload = field(body, "payload")
    if not isinstance(payload, dict):
        raise MalformedWebhook("No payload object")
    if payload.get("action") != "workflow_run.completed":
        return None
    run = payload.get("object")
    run_id = field(run, "id")
    status = field(run, "status")
    if not isinstance(run_id, str) or not run_id or not isinstance(status, str):
        raise MalformedWebhook("The workflow run has no id or status")
    mapped = STATUSES.get(status)
    if mapped is None:
        return None
    completed_at = field(run, "completed_at_iso8601")
    return Decision(
        provider_session_id=run_id,
        status=mapped,
        reason=None if mapped == "approved" else f"onfido workflow run {status}",
        decided_at=completed_at if isinstance(completed_at, str) and completed_at else None,
        code=status,
    )
