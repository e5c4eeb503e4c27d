"""The company rules: registration checked against the business registry,
one company per owner, the owner's edits with optimistic locking, an
admin's decision on a company held for review.

No FastAPI here; routes commit the unit of work, never this module.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

import structlog
from pydantic import BaseModel

from mindlinks_client.providers import CompanyRegistry, RegistryCompany, RegistryUnavailable
from mindlinks_fleet.events import CompanyRegistered, CompanyReviewed
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import CursorCodec, Item, UnitOfWork
from mindlinks_kit.errors import Conflict, InvalidInput, NotFound
from mindlinks_kit.revisions import revise


class CompanyNotFound(InvalidInput):
    code = "company-not-found"
    title = "The business registry does not know this company"


class CompanyInactive(InvalidInput):
    code = "company-inactive"
    title = "The business registry lists this company as inactive"


class CompanyAlreadyRegistered(Conflict):
    code = "company-already-registered"
    title = "This account already has a company"


class NoCompany(NotFound):
    code = "company-not-registered"
    title = "This account has no company yet"


class CompanyNotActive(Conflict):
    code = "company-not-active"
    title = "The company is not active (yet)"


class NotPendingReview(Conflict):
    code = "not-pending-review"
    title = "The company is not held for review"


log = structlog.get_logger("mindlinks.companies")
Status = Literal["active", "pending_review", "rejected"]
Decision = Literal["approved", "rejected"]
DECIDED: dict[Decision, Status] = {"approved": "active", "rejected": "rejected"}
Publish = Callable[[UnitOfWork, str, BaseModel], object]

_LEGAL_FORMS = {
    "limited": "ltd",
    "ltd": "ltd",
    "plc": "plc",
    "llp": "llp",
    "llc": "llc",
    "inc": "inc",
    "incorporated": "inc",
    "corp": "corp",
    "corporation": "corp",
    "co": "co",
    "company": "co",
    "gmbh": "gmbh",
    "ag": "ag",
    "sa": "sa",
    "sas": "sas",
    "sarl": "sarl",
    "bv": "bv",
    "nv": "nv",
    "ab": "ab",
    "oy": "oy",
    "pty": "pty",
    "srl": "srl",
    "spa": "spa",
}
_INACTIVE_WORDS = (
    "dissolved",
    "liquidation",
    "struck off",
    "closed",
    "removed",
    "receivership",
    "administration",
    "insolvency",
    "inactive",
    "cancelled",
    "terminated",
    "revoked",
    "void",
    "forfeited",
)


def normalize_name(name: str) -> str:
    """A company name reduced to what identifies it: case, accents, punctuation,
    "&"/"and", a leading "the" and trailing legal forms ("Ltd", "Limited",
    "L.L.C." ...) do not count."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("&", " and ")
    text = re.sub(r"\b([a-z])\.(?=[a-z]\.)", r"\1", text)  # l.l.c. → llc.
    words = re.sub(r"[\W_]+", " ", text).split()  # letters of any script stay
    if words[:1] == ["the"]:
        words = words[1:]
    while words and words[-1] in _LEGAL_FORMS:
        words.pop()
    return " ".join(words)


def same_name(submitted: str, registered: str) -> bool:
    """Equal once normalized (and not reduced to nothing, as "The Co Ltd" is)."""
    ours = normalize_name(submitted)
    return bool(ours) and ours == normalize_name(registered)


def is_inactive(company: RegistryCompany) -> bool:
    """Dissolved, in liquidation, struck off...: OpenCorporates' ``inactive``
    flag, a dissolution date, or a status saying so."""
    status = (company.current_status or "").lower()
    return (
        company.inactive
        or bool(company.dissolution_date)
        or any(word in status for word in _INACTIVE_WORDS)
    )


@dataclass(frozen=True)
class Assessment:
    status: Status
    name_mismatch: bool
    registry: RegistryCompany | None
    """``None`` when the registry could not be asked."""


def assess(submitted_name: str, found: RegistryCompany | None, *, reachable: bool) -> Assessment:
    """The registration policy (docs/lifecycle.md): unknown → 422
    ``company-not-found``; inactive → 422 ``company-inactive``; registry
    unreachable or a different name → ``pending_review`` for an admin;
    otherwise ``active``."""
    if not reachable:
        return Assessment("pending_review", name_mismatch=False, registry=None)
    if found is None:
        raise CompanyNotFound()
    if is_inactive(found):
        raise CompanyInactive(
            f"The registry lists the company as {found.current_status or 'inactive'}",
            registryStatus=found.current_status,
        )
    if not same_name(submitted_name, found.name):
        return Assessment("pending_review", name_mismatch=True, registry=found)
    return Assessment("active", name_mismatch=False, registry=found)


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None


@dataclass(frozen=True)
class RegistryRecord:
    """What the registry said at registration, kept for the admin's review."""

    checked_at: str
    reachable: bool
    name: str | None = None
    status: str | None = None
    registered_address: str | None = None


@dataclass(frozen=True)
class Review:
    """An admin's decision on a company held for review."""

    decision: Decision
    decided_by: str
    decided_at: str
    reason: str | None = None


@dataclass(frozen=True)
class Company:
    id: str
    owner_user_id: str
    legal_name: str
    jurisdiction_code: str
    company_number: str
    address: Address
    status: Status
    name_mismatch: bool
    registry: RegistryRecord
    created_at: str
    updated_at: str
    trading_name: str | None = None
    review: Review | None = None
    version: int = 1


@dataclass(frozen=True)
class Registration:
    legal_name: str
    jurisdiction_code: str
    company_number: str
    address: Address
    trading_name: str | None = None


class Store(Protocol):
    async def company(self, company_id: str) -> Company | None: ...
    async def by_owner(self, owner_user_id: str) -> Company | None: ...
    def add(self, uow: UnitOfWork, company: Company) -> None: ...
    def replace(self, uow: UnitOfWork, company: Company, *, expected_version: int) -> None: ...
    def decide(self, uow: UnitOfWork, company: Company) -> None: ...
    async def page(
        self, status: Status | None, limit: int, start: Item | None
    ) -> tuple[list[Company], Item | None]: ...


EDITABLE = ("address", "trading_name")


class Companies:
    def __init__(
        self, store: Store, registry: CompanyRegistry, publish: Publish, cursors: CursorCodec
    ) -> None:
        self.store = store
        self.registry = registry
        self.publish = publish
        self.cursors = cursors

    async def register(self, owner_user_id: str, form: Registration, uow: UnitOfWork) -> Company:
        if await self.store.by_owner(owner_user_id) is not None:
            raise CompanyAlreadyRegistered()
        try:
            found = await self.registry.company(form.jurisdiction_code, form.company_number)
            reachable = True
        except RegistryUnavailable as exc:
            log.warning("registry.unavailable", reason=str(exc))
            found, reachable = None, False
        assessment = assess(form.legal_name, found, reachable=reachable)
        at = now_iso()
        registry = assessment.registry
        company = Company(
            id=uuid.uuid4().hex,
            owner_user_id=owner_user_id,
            legal_name=form.legal_name,
            trading_name=form.trading_name,
            jurisdiction_code=form.jurisdiction_code,
            company_number=form.company_number,
            address=form.address,
            status=assessment.status,
            name_mismatch=assessment.name_mismatch,
            registry=RegistryRecord(
                checked_at=at,
                reachable=reachable,
                name=registry.name if registry else None,
                status=registry.current_status if registry else None,
                registered_address=registry.registered_address if registry else None,
            ),
            created_at=at,
            updated_at=at,
        )
        self.store.add(uow, company)  # conditional on the owner: a racing twin fails
        self.publish(
            uow,
            "company.registered",
            CompanyRegistered(
                company_id=company.id,
                owner_user_id=owner_user_id,
                legal_name=company.legal_name,
                jurisdiction_code=company.jurisdiction_code,
                company_number=company.company_number,
                status=company.status,
                name_mismatch=company.name_mismatch,
            ),
        )
        return company

    async def own(self, owner_user_id: str) -> Company:
        company = await self.store.by_owner(owner_user_id)
        if company is None:
            raise NoCompany()
        return company

    async def active(self, owner_user_id: str) -> Company:
        company = await self.own(owner_user_id)
        if company.status != "active":
            raise CompanyNotActive(f"The company is {company.status.replace('_', ' ')}")
        return company

    async def get(self, company_id: str) -> Company:
        company = await self.store.company(company_id)
        if company is None:
            raise NotFound("No such company")
        return company

    async def update(
        self,
        owner_user_id: str,
        changes: Mapping[str, Any],
        expected_version: int,
        uow: UnitOfWork,
    ) -> Company:
        current = await self.own(owner_user_id)
        updated = revise(
            current, changes, editable=EDITABLE, expected_version=expected_version, noun="company"
        )
        if updated is None:
            return current
        self.store.replace(uow, updated, expected_version=current.version)
        return updated

    async def page(
        self, status: Status | None, limit: int, cursor: str | None
    ) -> tuple[list[Company], str | None]:
        """Companies for operators: of one status newest first, or all."""
        scope = f"companies:status={status or ''}"
        items, last = await self.store.page(status, limit, self.cursors.decode(cursor, scope))
        return items, self.cursors.encode(last, scope)

    async def review(
        self,
        company_id: str,
        decision: Decision,
        reason: str | None,
        decided_by: str,
        uow: UnitOfWork,
    ) -> Company:
        """Decide a company held for review (``pending_review``): approved →
        ``active``, rejected → ``rejected``; publishes ``company.reviewed``.
        The same decision again is a retry and changes nothing; any other
        call on a company not held raises ``NotPendingReview``. The write is
        conditional on the company still being held, so two concurrent
        decisions cannot both apply."""
        company = await self.get(company_id)
        if company.status != "pending_review":
            if company.review is not None and company.review.decision == decision:
                return company
            raise NotPendingReview(f"The company is {company.status.replace('_', ' ')}")
        at = now_iso()
        decided = replace(
            company,
            status=DECIDED[decision],
            review=Review(decision=decision, reason=reason, decided_by=decided_by, decided_at=at),
            updated_at=at,
            version=company.version + 1,
        )
        self.store.decide(uow, decided)
        self.publish(
            uow,
            "company.reviewed",
            CompanyReviewed(
                company_id=company.id,
                owner_user_id=company.owner_user_id,
                legal_name=company.legal_name,
                decision=decision,
                reason=reason,
            ),
        )
        return decided
