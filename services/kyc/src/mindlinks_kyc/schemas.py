"""The kyc service's request and response bodies (camelCase on the wire)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from mindlinks_fleet.internal.kyc import (
    DocumentKind,
    DocumentOut,
    DocumentType,
    Outcome,
    Reason,
    SessionOut,
    SessionStatus,
    SessionSummary,
)
from mindlinks_kit.schemas import ONE_LINE, ApiModel
from mindlinks_kyc.domain import Document, Overall, Session, Upload

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
PersonName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE
]


class SessionCreated(ApiModel):
    id: str
    status: SessionStatus
    provider: str
    verification_url: str
    created_at: str
    expires_at: str

    @classmethod
    def of(cls, session: Session, status: SessionStatus) -> SessionCreated:
        return cls(
            id=session.id,
            status=status,
            provider=session.provider,
            verification_url=session.verification_url,
            created_at=session.created_at,
            expires_at=session.expires_at,
        )


def document_out(document: Document) -> DocumentOut:
    return DocumentOut.model_validate(document, from_attributes=True)


def session_out(
    session: Session, status: SessionStatus, documents: list[Document] | None = None
) -> SessionOut:
    return SessionOut(
        id=session.id,
        contractor_id=session.contractor_id,
        status=status,
        provider=session.provider,
        verification_url=session.verification_url,
        reason=session.reason,
        created_at=session.created_at,
        updated_at=session.updated_at,
        expires_at=session.expires_at,
        decided_at=session.decided_at,
        applicant_name=session.applicant_name,
        verified_legal_name=session.verified_legal_name,
        documents=[document_out(d) for d in documents or []],
    )


def session_summary(session: Session, status: SessionStatus) -> SessionSummary:
    return SessionSummary(
        id=session.id,
        contractor_id=session.contractor_id,
        user_id=session.user_id,
        provider=session.provider,
        status=status,
        reason=session.reason,
        created_at=session.created_at,
        updated_at=session.updated_at,
        expires_at=session.expires_at,
        decided_at=session.decided_at,
        decided_by=session.decided_by,
        applicant_name=session.applicant_name,
        verified_legal_name=session.verified_legal_name,
    )


class MyKyc(ApiModel):
    status: Overall
    """``not_started``, ``pending``, ``verified``, ``rejected`` or ``expired``."""
    session: SessionOut | None


class DocumentRequest(ApiModel):
    kind: DocumentKind
    content_type: DocumentType
    size: Annotated[int, Field(ge=1, le=MAX_DOCUMENT_BYTES)]
    """Bytes; the upload must be exactly this size."""


class UploadOut(ApiModel):
    url: str
    fields: dict[str, str]
    """Form fields to POST before the ``file`` field (multipart/form-data)."""


class DocumentUpload(ApiModel):
    document_id: str
    upload: UploadOut
    expires_at: str

    @classmethod
    def of(cls, document: Document, upload: Upload) -> DocumentUpload:
        return cls(
            document_id=document.id,
            upload=UploadOut(url=upload.url, fields=upload.fields),
            expires_at=upload.expires_at,
        )


class WebhookResult(ApiModel):
    outcome: Outcome | Literal["ignored"]
    session_id: str | None = None
    status: SessionStatus | None = None


class DevDecision(ApiModel):
    decision: Literal["approved", "declined", "resubmission_requested"]
    reason: Reason | None = None
    document_name: PersonName | None = None
    """The name the identity document shows, reported as Veriff reports it
    (``person.firstName``/``lastName``); default: the name the session was
    opened with, as a genuine document of that person would read."""


class DevDelivery(ApiModel):
    session_id: str
    decision: str
    webhook_status: int


class DevSessionPage(ApiModel):
    """What the local provider's verification URL shows."""

    session_id: str
    provider_session_id: str
    status: SessionStatus
    decide: str
    """``POST`` here with ``{"decision": "approved" | "declined", "reason"?}``."""
