"""The kyc service's internal API: the operator's review queue, a contractor's
sessions, and a human decision."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from mindlinks_kit.declaration import Call
from mindlinks_kit.schemas import MULTI_LINE, ApiModel, Id, Page

SessionStatus = Literal[
    "created", "in_review", "resubmission_requested", "approved", "declined", "expired"
]
Outcome = Literal["applied", "duplicate", "out_of_order"]
DocumentKind = Literal["passport", "id_card", "driving_licence", "proof_of_address", "selfie"]
DocumentType = Literal["image/jpeg", "image/png", "application/pdf"]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), MULTI_LINE
]


class DocumentOut(ApiModel):
    id: str
    kind: DocumentKind
    content_type: DocumentType
    size: int
    created_at: str


class SessionOut(ApiModel):
    id: str
    contractor_id: str
    status: SessionStatus
    provider: str
    verification_url: str
    reason: str | None
    created_at: str
    updated_at: str
    expires_at: str
    decided_at: str | None
    applicant_name: str | None = None
    """The legal name this session verifies (the profile's when it was opened)."""
    verified_legal_name: str | None = None
    """Once approved: the legal name the verification established."""
    documents: list[DocumentOut] = Field(default_factory=list)


class SessionSummary(ApiModel):
    """A session as operators list it: no verification link, no documents."""

    id: str
    contractor_id: str
    user_id: str
    provider: str
    status: SessionStatus
    reason: str | None
    created_at: str
    updated_at: str
    expires_at: str
    decided_at: str | None
    decided_by: str | None
    """``provider:<name>`` or ``admin:<userId>``."""
    applicant_name: str | None = None
    verified_legal_name: str | None = None


class AdminDecision(ApiModel):
    decision: Literal["approved", "declined", "resubmission_requested"]
    reason: Reason | None = None
    decided_by: Id
    """The admin user's id, for the audit trail."""


class DecisionResult(ApiModel):
    outcome: Outcome
    session: SessionOut


REVIEW_QUEUE = Call(
    "kyc",
    "GET",
    "/internal/kyc/review-queue",
    Page[SessionSummary],
    callers=("admin",),
    summary="Sessions waiting for a human (in_review), oldest first.",
)
SESSIONS = Call(
    "kyc",
    "GET",
    "/internal/kyc/sessions",
    Page[SessionSummary],
    callers=("admin",),
    summary="A contractor's sessions, newest first.",
)
SESSION = Call(
    "kyc",
    "GET",
    "/internal/kyc/sessions/{session_id}",
    SessionSummary,
    callers=("admin",),
    summary="One session as the lists show it.",
)
DECISION = Call(
    "kyc",
    "POST",
    "/internal/kyc/sessions/{session_id}/decision",
    DecisionResult,
    callers=("admin",),
    body=AdminDecision,
    summary="A human decision, applied like a provider's.",
)

ROUTES = (REVIEW_QUEUE, SESSIONS, SESSION, DECISION)
