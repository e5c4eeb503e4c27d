"""The KYC rules without I/O: a dict store, a fixed clock, a fake provider."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from mindlinks_fleet.events import KycDecided
from mindlinks_kit.dynamo import Item, UnitOfWork
from mindlinks_kyc.domain import (
    AlreadyVerified,
    Contractor,
    ContractorProfileRequired,
    Document,
    FutureDecision,
    InvalidDecisionTime,
    MissingDecisionTime,
    Session,
    SessionClosed,
    StaleDecision,
    UnknownProviderSession,
    iso,
    verified_name,
)
from mindlinks_kyc.providers import Applicant, Decision, ProviderSession
from mindlinks_kyc.service import Kyc

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
GRACE = Contractor(id="c-1", user_id="u-1", name="Grace Hopper", email="g@example.com")


class Store:
    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.latest: dict[str, tuple[str, int]] = {}
        self.docs: list[Document] = []

    async def session(self, session_id: str) -> Session | None:
        return self.sessions.get(session_id)

    async def session_by_provider(self, provider_session_id: str) -> Session | None:
        found = [s for s in self.sessions.values() if s.provider_session_id == provider_session_id]
        return found[0] if found else None

    async def sessions_page(
        self,
        index: str,
        key: str,
        value: str,
        *,
        oldest_first: bool,
        limit: int,
        start: Item | None,
    ) -> tuple[list[Session], Item | None]:
        field = {"status": "status", "contractorId": "contractor_id"}[key]
        found = sorted(
            (s for s in self.sessions.values() if getattr(s, field) == value),
            key=lambda s: s.created_at,
            reverse=not oldest_first,
        )
        return found[:limit], None

    async def latest_for_user(self, user_id: str) -> tuple[Session | None, int | None]:
        if user_id not in self.latest:
            return None, None
        session_id, version = self.latest[user_id]
        return self.sessions[session_id], version

    def add_session(self, uow: UnitOfWork, session: Session, pointer_version: int | None) -> None:
        self.sessions[session.id] = session
        self.latest[session.user_id] = (session.id, (pointer_version or 0) + 1)

    def replace_session(self, uow: UnitOfWork, session: Session, *, expected_version: int) -> None:
        assert self.sessions[session.id].version == expected_version
        self.sessions[session.id] = session

    async def documents(self, session_id: str, limit: int) -> list[Document]:
        return [d for d in self.docs if d.session_id == session_id][:limit]

    def add_document(self, uow: UnitOfWork, document: Document) -> None:
        self.docs.append(document)


class Bucket:
    async def presigned_post(
        self, key: str, content_type: str, size: int, expires_in: int
    ) -> tuple[str, dict[str, str]]:
        return "https://bucket", {"key": key}


class Provider:
    name = "fake"

    def __init__(self) -> None:
        self.opened: list[Applicant] = []

    async def create_session(self, applicant: Applicant) -> ProviderSession:
        self.opened.append(applicant)
        return ProviderSession(f"p-{len(self.opened)}", "https://verify")

    def verify_webhook(self, raw_body: bytes, headers: Any) -> Decision | None:
        return None


class World:
    def __init__(self) -> None:
        self.now = NOW
        self.store = Store()
        self.provider = Provider()
        self.events: list[tuple[str, BaseModel]] = []
        self.kyc = Kyc(
            self.store,
            Bucket(),
            lambda uow, name, payload: self.events.append((name, payload)),
            clock=lambda: self.now,
        )
        self.uow = UnitOfWork(client=None)  # type: ignore[arg-type]

    async def open(self) -> Session:
        session, created = await self.kyc.start("u-1", GRACE, self.provider, self.uow)
        assert created
        return session

    def decision(self, session: Session, status: Any, at: datetime | None = None) -> Decision:
        when = iso(at) if at else None
        return Decision(session.provider_session_id, status, "why", when)


@pytest.fixture
def world() -> World:
    return World()


async def test_one_open_session_per_contractor(world: World) -> None:
    first = await world.open()
    assert world.provider.opened == [
        Applicant(
            contractor_id="c-1", name="Grace Hopper", email="g@example.com", reference=first.id
        )
    ]
    again, created = await world.kyc.start("u-1", GRACE, world.provider, world.uow)
    assert (again, created) == (first, False)
    assert first.expires_at == iso(NOW + timedelta(days=7))

    world.now = NOW + timedelta(days=7)
    assert first.status_at(world.now) == "expired"
    fresh, created = await world.kyc.start("u-1", GRACE, world.provider, world.uow)
    assert created
    assert fresh.id != first.id


async def test_a_profile_is_required_and_verified_is_final(world: World) -> None:
    with pytest.raises(ContractorProfileRequired):
        await world.kyc.start("u-1", None, world.provider, world.uow)
    with pytest.raises(ContractorProfileRequired):
        await world.kyc.start("u-2", GRACE, world.provider, world.uow)  # someone else's
    session = await world.open()
    world.kyc.decide(session, world.decision(session, "approved", NOW), "test", world.uow)
    with pytest.raises(AlreadyVerified):
        await world.kyc.start("u-1", GRACE, world.provider, world.uow)
    with pytest.raises(SessionClosed):
        await world.kyc.request_upload("u-1", session.id, "selfie", "image/png", 10, world.uow)


async def test_decisions_apply_once_and_in_order(world: World) -> None:
    session = await world.open()
    late = world.decision(session, "approved", NOW - timedelta(minutes=1))
    decided, outcome = world.kyc.decide(session, late, "test", world.uow)
    assert (outcome, decided.status, decided.version, decided.reason) == (
        "applied",
        "approved",
        2,
        None,
    )
    assert [name for name, _ in world.events] == ["kyc.verified"]

    assert world.kyc.decide(decided, late, "test", world.uow)[1] == "duplicate"
    earlier = world.decision(session, "declined", NOW - timedelta(minutes=2))
    assert world.kyc.decide(decided, earlier, "test", world.uow)[1] == "out_of_order"
    assert len(world.events) == 1

    not_final = world.decision(session, "resubmission_requested", NOW)
    assert world.kyc.decide(decided, not_final, "admin:a", world.uow)[1] == "out_of_order"

    newer = world.decision(session, "declined", NOW)
    revoked, outcome = world.kyc.decide(decided, newer, "admin:a", world.uow)
    assert (outcome, revoked.status, revoked.reason) == ("applied", "declined", "why")
    name, payload = world.events[-1]
    assert name == "kyc.rejected"
    assert payload.model_dump(by_alias=True) == {
        "sessionId": session.id,
        "contractorId": "c-1",
        "userId": "u-1",
        "provider": "fake",
        "reason": "why",
        "verifiedLegalName": None,
    }


async def test_stale_or_unreadable_decisions_are_refused(world: World) -> None:
    session = await world.open()
    with pytest.raises(StaleDecision):
        world.kyc.decide(
            session, world.decision(session, "approved", NOW - timedelta(hours=25)), "t", world.uow
        )
    with pytest.raises(InvalidDecisionTime):
        world.kyc.decide(
            session, replace(world.decision(session, "approved"), decided_at="soon"), "t", world.uow
        )
    for undated in (world.decision(session, "in_review"), world.decision(session, "approved")):
        with pytest.raises(MissingDecisionTime):
            world.kyc.decide(session, undated, "t", world.uow)
    with pytest.raises(FutureDecision):
        world.kyc.decide(
            session,
            world.decision(session, "approved", NOW + timedelta(seconds=301)),
            "t",
            world.uow,
        )
    assert world.store.sessions[session.id] == session
    assert world.events == []
    skewed = world.decision(session, "in_review", NOW + timedelta(seconds=300))
    reviewed, outcome = world.kyc.decide(session, skewed, "t", world.uow)
    assert (outcome, reviewed.decided_at, world.events) == ("applied", skewed.decided_at, [])
    assert reviewed.status_at(NOW + timedelta(days=30)) == "in_review"  # waits for the provider


async def test_a_decision_needs_its_providers_session(world: World) -> None:
    session = await world.open()
    decision = world.decision(session, "approved", NOW)
    with pytest.raises(UnknownProviderSession):
        await world.kyc.on_provider_decision("other", decision, world.uow)
    with pytest.raises(UnknownProviderSession):
        await world.kyc.on_provider_decision(
            "fake", replace(decision, provider_session_id="x"), world.uow
        )
    _, outcome = await world.kyc.on_provider_decision("fake", decision, world.uow)
    assert outcome == "applied"


@pytest.mark.parametrize(
    ("applicant", "document", "expected"),
    [
        ("Grace Hopper", None, "Grace Hopper"),  # Onfido, an admin: the name asked about
        ("Grace Hopper", "GRACE HOPPER", "Grace Hopper"),  # MRZ capitals
        ("Zoë  Ångström", "ZOË ÅNGSTRÖM", "Zoë  Ångström"),
        ("Zoë Ångström", "ZOE ANGSTROM", "Zoë Ångström"),  # an MRZ has no diacritics
        ("Zoe Angstrom", "Zoë Ångström", "Zoe Angstrom"),
        ("Grace Hopper", "Grace Brewster Hopper", "Grace Brewster Hopper"),  # the document wins
        ("Mallory Mallet", "GRACE  HOPPER", "GRACE HOPPER"),
        (None, "GRACE HOPPER", "GRACE HOPPER"),
        (None, None, None),  # a session opened before names were recorded
    ],
)
def test_the_verified_name(applicant: str | None, document: str | None, expected: str) -> None:
    assert verified_name(applicant, document) == expected


async def test_an_approval_carries_the_verified_name_and_a_rejection_none(world: World) -> None:
    session = await world.open()
    assert session.applicant_name == "Grace Hopper"
    document = replace(world.decision(session, "approved", NOW), person_name="GRACE HOPPER")
    approved, _ = world.kyc.decide(session, document, "provider:fake", world.uow)
    assert approved.verified_legal_name == "Grace Hopper"
    name, payload = world.events[-1]
    assert isinstance(payload, KycDecided)
    assert (name, payload.verified_legal_name) == ("kyc.verified", "Grace Hopper")
    overturned = world.decision(session, "declined", NOW + timedelta(minutes=1))
    declined, _ = world.kyc.decide(approved, overturned, "admin:a", world.uow)
    assert declined.verified_legal_name is None
