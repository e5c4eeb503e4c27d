"""Outside identity-verification services.

A ``KycProvider`` opens a verification session for a contractor (the provider's
session id and the URL the contractor follows) and verifies the provider's
signed decision webhooks. Real adapters: ``VeriffProvider``, ``OnfidoProvider``
(chosen when their keys are configured); ``LocalKycProvider`` (local mode only)
signs Veriff-format decisions itself and delivers them to our own webhook route.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol

from mindlinks_kit.errors import Problem

DecisionStatus = Literal["approved", "declined", "resubmission_requested", "in_review", "expired"]


class InvalidSignature(Problem):
    status = 401
    code = "invalid-signature"
    title = "The webhook signature does not verify"


class MalformedWebhook(Problem):
    status = 400
    code = "malformed-webhook"
    title = "The webhook body is not a decision this service understands"


class ProviderFailed(Problem):
    status = 502
    code = "kyc-provider-failed"
    title = "The identity-verification provider did not accept the request"


@dataclass(frozen=True)
class Applicant:
    """The contractor as a provider sees them."""

    contractor_id: str
    name: str
    email: str
    reference: str
    """Our session id (the local provider builds its verification URL from it)."""

    @property
    def first_and_last(self) -> tuple[str, str]:
        parts = self.name.split()
        if not parts:
            return "", ""
        return parts[0], " ".join(parts[1:])


class ProviderSession(NamedTuple):
    id: str
    """The provider's session id (Veriff verification id, Onfido workflow run id)."""
    url: str
    """Where the contractor goes to verify."""


@dataclass(frozen=True)
class Decision:
    provider_session_id: str
    status: DecisionStatus
    reason: str | None = None
    decided_at: str | None = None
    """ISO 8601 decision time as the provider states it (``None``: not given)."""
    code: str | None = None
    """The provider's own decision code, for the audit trail."""
    person_name: str | None = None
    """The person's name as the provider read it from the identity document,
    when the provider reports it (Veriff's ``verification.person``)."""


class KycProvider(Protocol):
    name: str
    """Recorded on each session: the webhook of the same provider decides it."""

    async def create_session(self, applicant: Applicant) -> ProviderSession: ...

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> Decision | None:
        """The decision in a genuine webhook, ``None`` for a genuine webhook that
        decides nothing (progress events); raises ``InvalidSignature`` or
        ``MalformedWebhook``."""
        ...
