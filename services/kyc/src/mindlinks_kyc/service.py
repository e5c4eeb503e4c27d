"""The KYC use cases: one open verification session per contractor at a time,
documents only while a session is open, and decisions — from a provider's
webhook or an admin — applied once, in order, with their event.

No FastAPI here; the routes commit the unit of work, never this.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Protocol

import structlog

from mindlinks_fleet.events import KycDecided
from mindlinks_fleet.internal.kyc import DocumentKind, DocumentType, Outcome, SessionStatus
from mindlinks_kit.dynamo import Item, UnitOfWork
from mindlinks_kit.runtime import Publish
from mindlinks_kyc.domain import (
    EVENTS,
    OPEN,
    OVERALL,
    AlreadyVerified,
    Contractor,
    ContractorProfileRequired,
    Document,
    DocumentTooLarge,
    FutureDecision,
    MissingDecisionTime,
    Overall,
    Policy,
    Session,
    SessionClosed,
    SessionNotFound,
    StaleDecision,
    TooManyDocuments,
    UnknownProviderSession,
    Upload,
    iso,
    parse_time,
    verified_name,
)
from mindlinks_kyc.providers import Applicant, Decision, DecisionStatus, KycProvider

log = structlog.get_logger("mindlinks.kyc")
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Store(Protocol):
    async def session(self, session_id: str) -> Session | None: ...
    async def session_by_provider(self, provider_session_id: str) -> Session | None: ...
    async def sessions_page(
        self,
        index: str,
        key: str,
        value: str,
        *,
        oldest_first: bool,
        limit: int,
        start: Item | None,
    ) -> tuple[list[Session], Item | None]: ...
    async def latest_for_user(self, user_id: str) -> tuple[Session | None, int | None]: ...
    def add_session(self, uow: UnitOfWork, session: Session, pointer_version: int | None) -> None:
        """The session, and the user's latest-session pointer moved to it
        (created when ``pointer_version`` is ``None``; optimistic otherwise)."""
        ...

    def replace_session(
        self, uow: UnitOfWork, session: Session, *, expected_version: int
    ) -> None: ...

    async def documents(self, session_id: str, limit: int) -> list[Document]: ...
    def add_document(self, uow: UnitOfWork, document: Document) -> None: ...


class Bucket(Protocol):
    async def presigned_post(
        self, key: str, content_type: str, size: int, expires_in: int
    ) -> tuple[str, dict[str, str]]: ...


class Kyc:
    def __init__(
        self,
        store: Store,
        bucket: Bucket,
        publish: Publish,
        policy: Policy | None = None,
        clock: Clock = _utcnow,
    ) -> None:
        self.store = store
        self.bucket = bucket
        self.publish = publish
        self.policy = policy or Policy()
        self.clock = clock

    async def start(
        self, user_id: str, contractor: Contractor | None, provider: KycProvider, uow: UnitOfWork
    ) -> tuple[Session, bool]:
        """The caller's open session, or a new one with ``provider``; ``True`` when new."""
        if contractor is None or contractor.user_id != user_id:
            raise ContractorProfileRequired()
        now = self.clock()
        latest, pointer_version = await self.store.latest_for_user(user_id)
        if latest is not None:
            status = latest.status_at(now)
            if status in OPEN:
                return latest, False
            if status == "approved":
                raise AlreadyVerified()
        session_id = uuid.uuid4().hex
        opened = await provider.create_session(
            Applicant(
                contractor_id=contractor.id,
                name=contractor.name,
                email=contractor.email,
                reference=session_id,
            )
        )
        session = Session(
            id=session_id,
            contractor_id=contractor.id,
            user_id=user_id,
            provider=provider.name,
            provider_session_id=opened.id,
            verification_url=opened.url,
            status="created",
            created_at=iso(now),
            updated_at=iso(now),
            expires_at=iso(now + self.policy.session_ttl),
            applicant_name=contractor.name,
        )
        self.store.add_session(uow, session, pointer_version)
        return session, True

    async def visible(self, caller_id: str, caller_role: str, session_id: str) -> Session:
        """Its owner's or, for an admin, anyone's; otherwise not found."""
        session = await self.store.session(session_id)
        if session is None or (caller_role != "admin" and session.user_id != caller_id):
            raise SessionNotFound()
        return session

    async def session(self, session_id: str) -> Session:
        session = await self.store.session(session_id)
        if session is None:
            raise SessionNotFound()
        return session

    async def mine(self, user_id: str) -> tuple[Session | None, Overall]:
        latest, _ = await self.store.latest_for_user(user_id)
        if latest is None:
            return None, "not_started"
        return latest, OVERALL[latest.status_at(self.clock())]

    async def review_queue(
        self, limit: int, start: Item | None
    ) -> tuple[list[Session], Item | None]:
        """Sessions waiting for a human (``in_review``), oldest first."""
        return await self.store.sessions_page(
            "by-status", "status", "in_review", oldest_first=True, limit=limit, start=start
        )

    async def sessions_of(
        self, contractor_id: str, limit: int, start: Item | None
    ) -> tuple[list[Session], Item | None]:
        """A contractor's sessions, newest first (pointer items are in no index)."""
        return await self.store.sessions_page(
            "by-contractor",
            "contractorId",
            contractor_id,
            oldest_first=False,
            limit=limit,
            start=start,
        )

    def status_of(self, session: Session) -> SessionStatus:
        return session.status_at(self.clock())

    async def documents(self, session: Session) -> list[Document]:
        return await self.store.documents(session.id, self.policy.max_documents)

    async def request_upload(
        self,
        user_id: str,
        session_id: str,
        kind: DocumentKind,
        content_type: DocumentType,
        size: int,
        uow: UnitOfWork,
    ) -> tuple[Document, Upload]:
        """Record the document and sign an S3 POST that accepts exactly it."""
        session = await self.visible(user_id, "contractor", session_id)
        now = self.clock()
        if session.status_at(now) not in OPEN:
            raise SessionClosed()
        if size > self.policy.max_document_bytes:
            raise DocumentTooLarge(f"At most {self.policy.max_document_bytes} bytes")
        if len(await self.documents(session)) >= self.policy.max_documents:
            raise TooManyDocuments()
        document_id = uuid.uuid4().hex
        expires = now + self.policy.upload_expiry
        document = Document(
            id=document_id,
            session_id=session.id,
            kind=kind,
            content_type=content_type,
            size=size,
            key=f"kyc/{session.id}/{document_id}",
            created_at=iso(now),
            upload_expires_at=iso(expires),
        )
        url, fields = await self.bucket.presigned_post(
            document.key, content_type, size, int(self.policy.upload_expiry.total_seconds())
        )
        self.store.add_document(uow, document)
        return document, Upload(url=url, fields=fields, expires_at=iso(expires))

    async def on_provider_decision(
        self, provider: str, decision: Decision, uow: UnitOfWork
    ) -> tuple[Session, Outcome]:
        session = await self.store.session_by_provider(decision.provider_session_id)
        if session is None or session.provider != provider:
            log.warning(
                "kyc.unknown_provider_session",
                provider=provider,
                provider_session_id=decision.provider_session_id,
            )
            raise UnknownProviderSession()
        return self.decide(session, decision, f"provider:{provider}", uow)

    async def on_admin_decision(
        self,
        session_id: str,
        status: DecisionStatus,
        reason: str | None,
        decided_by: str,
        uow: UnitOfWork,
    ) -> tuple[Session, Outcome]:
        session = await self.session(session_id)
        decision = Decision(session.provider_session_id, status, reason, iso(self.clock()))
        return self.decide(session, decision, f"admin:{decided_by}", uow)

    def _decision_time(self, decision: Decision, now: datetime) -> datetime:
        """The providers sign only the body, so its decision time is all that
        tells a fresh decision from a replayed one; it also orders decisions.
        Undated (replayable forever, and it would outrank every dated one) or
        far ahead of our clock (it would outrank every later decision): refused."""
        if not decision.decided_at:
            raise MissingDecisionTime()
        decided_at = parse_time(decision.decided_at)
        if now - decided_at > self.policy.decision_max_age:
            raise StaleDecision(f"Decided at {iso(decided_at)}")
        if decided_at - now > self.policy.decision_max_skew:
            raise FutureDecision(f"Decided at {iso(decided_at)}, now {iso(now)}")
        return decided_at

    def decide(
        self, session: Session, decision: Decision, decided_by: str, uow: UnitOfWork
    ) -> tuple[Session, Outcome]:
        """Apply a decision once and in order; ``approved``/``declined`` publish
        ``kyc.verified``/``kyc.rejected`` in the same unit of work."""
        now = self.clock()
        decided_at = self._decision_time(decision, now)
        if session.status == decision.status:
            return session, "duplicate"
        older = session.decided_at is not None and decided_at <= parse_time(session.decided_at)
        if older or (session.status in EVENTS and decision.status not in EVENTS):
            # Late, or a non-final status after a final one (which would leave
            # the contractor's recorded status behind): ignored.
            log.info("kyc.decision_out_of_order", session_id=session.id, status=decision.status)
            return session, "out_of_order"
        approved = decision.status == "approved"
        updated = replace(
            session,
            status=decision.status,
            reason=decision.reason if not approved else None,
            decided_at=iso(decided_at),
            decided_by=decided_by,
            decision_code=decision.code,
            verified_legal_name=(
                verified_name(session.applicant_name, decision.person_name) if approved else None
            ),
            updated_at=iso(now),
            version=session.version + 1,
        )
        self.store.replace_session(uow, updated, expected_version=session.version)
        event = EVENTS.get(decision.status)
        if event is not None:
            self.publish(
                uow,
                event,
                KycDecided(
                    session_id=session.id,
                    contractor_id=session.contractor_id,
                    user_id=session.user_id,
                    provider=session.provider,
                    reason=updated.reason,
                    verified_legal_name=updated.verified_legal_name,
                ),
            )
        return updated, "applied"
