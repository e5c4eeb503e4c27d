"""The company use cases: registration checked against the business registry
(``vetting``), one company per owner, one active company per registry number,
the owner's edits with optimistic locking, an admin's decision on a company
held for review.

No FastAPI here; routes commit the unit of work, never this module.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Protocol

import structlog

from mindlinks_client.domain import (
    DECIDED,
    EDITABLE,
    Company,
    CompanyAlreadyRegistered,
    Member,
    NoCompany,
    NotPendingReview,
    NumberTaken,
    Registration,
    RegistryRecord,
    Review,
    Vetted,
)
from mindlinks_client.providers import CompanyRegistry, RegistryCompany, RegistryUnavailable
from mindlinks_client.vetting import Authority, Status, assess, authority, is_inactive
from mindlinks_fleet.events import (
    CompanyClaimContested,
    CompanyRegistered,
    CompanyReviewed,
)
from mindlinks_fleet.internal.client import CompanyNotActive, Decision
from mindlinks_fleet.teams import CompanyRole
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import CursorCodec, Item, UnitOfWork
from mindlinks_kit.errors import NotFound
from mindlinks_kit.revisions import revise
from mindlinks_kit.runtime import Publish

log = structlog.get_logger("mindlinks.companies")


class Store(Protocol):
    async def company(self, company_id: str) -> Company | None: ...
    async def by_owner(self, owner_user_id: str) -> Company | None: ...
    async def number_holder(self, number: str) -> str | None: ...
    def add(self, uow: UnitOfWork, company: Company) -> None: ...
    def replace(self, uow: UnitOfWork, company: Company, *, expected_version: int) -> None: ...
    def decide(self, uow: UnitOfWork, company: Company) -> None: ...
    def revoke(self, uow: UnitOfWork, company: Company) -> None: ...
    async def page(
        self, status: Status | None, limit: int, start: Item | None
    ) -> tuple[list[Company], Item | None]: ...


class MemberWrites(Protocol):
    def add(
        self, uow: UnitOfWork, company: Company, member: Member, on_conflict: Exception
    ) -> None: ...


class Names(Protocol):
    async def name(self, user_id: str) -> str | None: ...


class Companies:
    def __init__(
        self,
        store: Store,
        registry: CompanyRegistry,
        publish: Publish,
        cursors: CursorCodec,
        names: Names,
        members: MemberWrites,
    ) -> None:
        self.store = store
        self.members = members
        self.registry = registry
        self.publish = publish
        self.cursors = cursors
        self.names = names
        """The account's name, as auth knows it: the officer check's person."""

    async def vet(self, owner_user_id: str, form: Registration) -> Vetted:
        """Ask the registry about the company and its officers (no writes). A
        registry that cannot answer holds the company for review."""
        if await self.store.by_owner(owner_user_id) is not None:
            raise CompanyAlreadyRegistered()
        found: RegistryCompany | None = None
        try:
            found = await self.registry.company(form.jurisdiction_code, form.company_number)
            officers = None
            if found is not None and not is_inactive(found):
                officers = await self.registry.officers(form.jurisdiction_code, form.company_number)
        except RegistryUnavailable as exc:
            log.warning("registry.unavailable", reason=str(exc))
            return Vetted(found, reachable=False, authority=Authority("not-checked"))
        person = await self.names.name(owner_user_id) if officers else None
        return Vetted(found, reachable=True, authority=authority(person, officers))

    async def register(
        self, owner_user_id: str, form: Registration, vetted: Vetted, uow: UnitOfWork
    ) -> Company:
        """Stage the company (in ``uow``). Active only when nothing holds it
        for review, and then it takes the registry number (a conditional put:
        a concurrent twin's commit fails, and staged again it finds the number
        held). A claim on a number an active company holds is held for review
        and that company's owner is told (``company.claim-contested``)."""
        # The registry's own spelling of the number when it answered, so that
        # another spelling of the same company cannot hold a second guard.
        found = vetted.found
        jurisdiction = found.jurisdiction_code.lower() if found else form.jurisdiction_code
        company_number = found.company_number.upper() if found else form.company_number
        number = f"{jurisdiction}/{company_number}"
        holder_id = await self.store.number_holder(number)
        holder = await self.store.company(holder_id) if holder_id else None
        assessment = assess(
            form.legal_name,
            vetted.found,
            reachable=vetted.reachable,
            authority=vetted.authority,
            number_held=holder is not None,
        )
        at = now_iso()
        registry = assessment.registry
        company = Company(
            id=uuid.uuid4().hex,
            owner_user_id=owner_user_id,
            legal_name=form.legal_name,
            trading_name=form.trading_name,
            jurisdiction_code=jurisdiction,
            company_number=company_number,
            address=form.address,
            status=assessment.status,
            name_mismatch=assessment.name_mismatch,
            registry=RegistryRecord(
                checked_at=at,
                reachable=vetted.reachable,
                name=registry.name if registry else None,
                status=registry.current_status if registry else None,
                registered_address=registry.registered_address if registry else None,
            ),
            holds=assessment.holds,
            authority=vetted.authority,
            conflicts_with=holder.id if holder else None,
            created_at=at,
            updated_at=at,
        )
        self.store.add(uow, company)  # conditional on the owner (and the number if active)
        # The registering account is the first owner, in the same transaction.
        # Audited and announced (company.member-added) like every membership change.
        owner = Member(company.id, owner_user_id, CompanyRole.OWNER, at, owner_user_id)
        self.members.add(uow, company, owner, on_conflict=CompanyAlreadyRegistered())
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
        if holder is not None:
            log.warning("company.claim_contested", company_id=holder.id, claim_id=company.id)
            self.publish(
                uow,
                "company.claim-contested",
                CompanyClaimContested(
                    company_id=holder.id,
                    owner_user_id=holder.owner_user_id,
                    legal_name=holder.legal_name,
                    jurisdiction_code=holder.jurisdiction_code,
                    company_number=holder.company_number,
                    claim_company_id=company.id,
                    claim_owner_user_id=owner_user_id,
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
        company_id: str,
        changes: Mapping[str, Any],
        expected_version: int,
        uow: UnitOfWork,
    ) -> Company:
        """A member's edit (``company.update``) of the company they act for."""
        current = await self.get(company_id)
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
        ``active`` (and it takes the registry number: ``NumberTaken`` while
        another active company holds it, never a transfer), rejected →
        ``rejected``; publishes ``company.reviewed``.
        The same decision again is a retry and changes nothing; any other
        call on a company not held raises ``NotPendingReview``. The write is
        conditional on the company still being held, so two concurrent
        decisions cannot both apply."""
        company = await self.get(company_id)
        if company.status != "pending_review":
            if company.review is not None and company.review.decision == decision:
                return company
            raise NotPendingReview(f"The company is {company.status.replace('_', ' ')}")
        if decision == "approved":
            holder = await self.store.number_holder(company.number)
            if holder is not None and holder != company.id:
                raise NumberTaken(
                    f"Company {holder} is active with {company.number}; reject this claim, "
                    "or take that company out of service first",
                    holderCompanyId=holder,
                )
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

    async def revoke(
        self, company_id: str, reason: str, decided_by: str, uow: UnitOfWork
    ) -> Company:
        """An admin takes an active company out of service: ``rejected`` (it
        can no longer invite; peers see the status), its registry number is
        freed so that a claim held for it can be approved; publishes
        ``company.reviewed`` (rejected, with the reason). Again on a company
        so revoked: a retry, nothing changes."""
        company = await self.get(company_id)
        if company.status != "active":
            if company.status == "rejected" and company.review is not None:
                return company
            raise CompanyNotActive(f"The company is {company.status.replace('_', ' ')}")
        at = now_iso()
        revoked = replace(
            company,
            status="rejected",
            review=Review(decision="rejected", reason=reason, decided_by=decided_by, decided_at=at),
            updated_at=at,
            version=company.version + 1,
        )
        self.store.revoke(uow, revoked)
        log.warning("company.revoked", company_id=company.id, number=company.number)
        self.publish(
            uow,
            "company.reviewed",
            CompanyReviewed(
                company_id=company.id,
                owner_user_id=company.owner_user_id,
                legal_name=company.legal_name,
                decision="rejected",
                reason=reason,
            ),
        )
        return revoked
