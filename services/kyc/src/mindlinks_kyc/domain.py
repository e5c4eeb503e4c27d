"""The KYC rules and values: a verification session and its status machine
(open, expiring, decided), documents, the legal name a verification
establishes, how decision times read; the problems the use cases raise.

Pure: no I/O, no FastAPI; ``service.Kyc`` applies them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from mindlinks_fleet.internal.kyc import DocumentKind, DocumentType, SessionStatus
from mindlinks_kit.errors import Conflict, InvalidInput, NotFound, Problem


class ContractorProfileRequired(Conflict):
    code = "contractor-profile-required"
    title = "Create your contractor profile (accept an invitation) before verifying"


class AlreadyVerified(Conflict):
    code = "kyc-already-verified"
    title = "Your identity is already verified"


class SessionNotFound(NotFound):
    """Unknown and foreign sessions answer alike."""


class SessionClosed(Conflict):
    code = "session-closed"
    title = "This verification session is no longer open"


class TooManyDocuments(Conflict):
    code = "too-many-documents"
    title = "This session has as many documents as it may hold"


class DocumentTooLarge(InvalidInput):
    code = "document-too-large"
    title = "The document is larger than allowed"


class UnknownProviderSession(NotFound):
    code = "unknown-provider-session"
    title = "No verification session matches this decision"


class StaleDecision(Problem):
    status = 400
    code = "stale-decision"
    title = "The decision is too old to be applied (a replay?)"


class MissingDecisionTime(Problem):
    status = 400
    code = "missing-decision-time"
    title = "The decision states no decision time"


class FutureDecision(Problem):
    status = 400
    code = "future-decision"
    title = "The decision time is ahead of this service's clock by more than the allowed skew"


class InvalidDecisionTime(Problem):
    status = 400
    code = "invalid-decision-time"
    title = "The decision time is not an ISO 8601 timestamp"


Overall = Literal["not_started", "pending", "verified", "rejected", "expired"]


OPEN: frozenset[str] = frozenset({"created", "in_review", "resubmission_requested"})


EXPIRING: frozenset[str] = frozenset({"created", "resubmission_requested"})
"""Open statuses that lapse with time (``in_review`` waits for the provider)."""


EVENTS = {"approved": "kyc.verified", "declined": "kyc.rejected"}


OVERALL: dict[str, Overall] = {
    "created": "pending",
    "in_review": "pending",
    "resubmission_requested": "pending",
    "approved": "verified",
    "declined": "rejected",
    "expired": "expired",
}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidDecisionTime() from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _folded(name: str) -> str:
    """Case, spacing and diacritics aside (an MRZ has none of them)."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.split()).casefold()


def verified_name(applicant_name: str | None, document_name: str | None) -> str | None:
    """The legal name a verification establishes. The document's name, as the
    provider read it, is the truth; when it is the applicant's name but for
    case, spacing and diacritics (Veriff reports MRZ capitals: ``GRACE
    HOPPER``, ``ZOE ANGSTROM``), the applicant's spelling is kept. Without a
    reported name (Onfido, an admin's decision), the name the provider was
    asked to verify. ``None`` only for
    sessions opened before names were recorded."""
    if document_name and document_name.strip():
        if applicant_name and _folded(applicant_name) == _folded(document_name):
            return applicant_name
        return " ".join(document_name.split())
    return applicant_name


@dataclass(frozen=True)
class Contractor:
    """What opening a session needs of the contractor's profile: whose it is,
    and the name and email the provider's applicant is opened with."""

    id: str
    user_id: str
    name: str
    email: str


@dataclass(frozen=True)
class Session:
    id: str
    contractor_id: str
    user_id: str
    provider: str
    provider_session_id: str
    verification_url: str
    status: SessionStatus
    created_at: str
    updated_at: str
    expires_at: str
    reason: str | None = None
    decided_at: str | None = None
    decided_by: str | None = None
    decision_code: str | None = None
    applicant_name: str | None = None
    """The contractor's legal name when the session was opened: what the
    provider was asked to verify (later profile edits do not change it)."""
    verified_legal_name: str | None = None
    """Set on approval: the name the verification established (``verified_name``)."""
    version: int = 1

    def status_at(self, now: datetime) -> SessionStatus:
        """The stored status, or ``expired`` once an undecided session has lapsed."""
        if self.status in EXPIRING and now >= parse_time(self.expires_at):
            return "expired"
        return self.status


@dataclass(frozen=True)
class Document:
    id: str
    session_id: str
    kind: DocumentKind
    content_type: DocumentType
    size: int
    key: str
    created_at: str
    upload_expires_at: str


@dataclass(frozen=True)
class Upload:
    url: str
    fields: dict[str, str]
    expires_at: str


@dataclass(frozen=True)
class Policy:
    session_ttl: timedelta = timedelta(days=7)
    decision_max_age: timedelta = timedelta(hours=24)
    decision_max_skew: timedelta = timedelta(minutes=5)
    upload_expiry: timedelta = timedelta(minutes=10)
    max_document_bytes: int = 10 * 1024 * 1024
    max_documents: int = 20
