"""The local provider (local mode only): behaves like Veriff without Veriff.

Sessions get a local verification URL; a decision (driven through
``POST /v1/kyc/dev/sessions/{id}/decide``) is built in Veriff's decision-webhook
format, signed with the local shared secret exactly as Veriff signs, and POSTed
over HTTP to this service's own ``/v1/kyc/webhooks/veriff`` — so the real
webhook route and its signature check run.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping

import httpx

from mindlinks_kit.clock import now_iso
from mindlinks_kyc.providers import Applicant, Decision, ProviderSession
from mindlinks_kyc.providers import veriff as veriff_format

LOCAL_CLIENT = "local-kyc-client"
"""What the local provider sends as ``X-AUTH-CLIENT`` (Veriff sends the API key)."""
WEBHOOK_PATH = "/v1/kyc/webhooks/veriff"


class LocalKycProvider:
    name = "local"

    def __init__(
        self,
        *,
        secret: str,
        public_base_url: str,
        client: httpx.AsyncClient,
        webhook_url: str,
        timeout: float = 10.0,
    ) -> None:
        self.secret = secret
        self.public_base_url = public_base_url.rstrip("/")
        self.client = client
        self.webhook_url = webhook_url
        self.timeout = timeout

    def deliver_through(self, client: httpx.AsyncClient, webhook_url: str = WEBHOOK_PATH) -> None:
        """Where decisions are POSTed (tests: the app itself over ASGI)."""
        self.client = client
        self.webhook_url = webhook_url

    async def create_session(self, applicant: Applicant) -> ProviderSession:
        url = f"{self.public_base_url}/v1/kyc/dev/sessions/{applicant.reference}"
        return ProviderSession(uuid.uuid4().hex, url)

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> Decision | None:
        veriff_format.verify_signature(raw_body, headers, api_key=LOCAL_CLIENT, secret=self.secret)
        return veriff_format.parse_decision(raw_body)

    def signed_decision(
        self,
        *,
        provider_session_id: str,
        status: str,
        reason: str | None,
        vendor_data: str,
        accepted_at: str,
        decided_at: str | None = None,
        person_name: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """The raw body and headers Veriff would send for this decision;
        ``person_name`` is what the document read says (``person``)."""
        body = veriff_format.decision_body(
            verification_id=provider_session_id,
            attempt_id=uuid.uuid4().hex,
            status=status,
            reason=reason,
            vendor_data=vendor_data,
            decision_time=decided_at or now_iso(),
            acceptance_time=accepted_at,
            person=veriff_format.reported_person(person_name),
        )
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            veriff_format.CLIENT_HEADER: LOCAL_CLIENT,
            veriff_format.SIGNATURE_HEADER: veriff_format.sign(raw, self.secret),
        }
        return raw, headers

    async def deliver(self, raw_body: bytes, headers: Mapping[str, str]) -> httpx.Response:
        return await self.client.post(
            self.webhook_url, content=raw_body, headers=dict(headers), timeout=self.timeout
        )
