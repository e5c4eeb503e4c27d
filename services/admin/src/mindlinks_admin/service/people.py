"""Accounts, companies, contractors and KYC: the views that gather one person
or company from several services (with ``partial`` for what did not answer),
and the changes admins make to them, each audited before and after."""

from __future__ import annotations

import asyncio

from mindlinks_admin.clients import Accounts, Companies, Contractors, Contracts, Kyc, Page, Profiles
from mindlinks_admin.domain import (
    Actor,
    CannotSuspendSelf,
    CompanyNotFound,
    CompanyView,
    ContractorNotFound,
    ContractorView,
    UserNotFound,
    UserView,
)
from mindlinks_admin.peers import Gathered, Missing, Record, one_source, settle, state_before
from mindlinks_admin.service.audit import Audit


class People:
    def __init__(
        self,
        *,
        accounts: Accounts,
        profiles: Profiles,
        companies: Companies,
        contractors: Contractors,
        kyc: Kyc,
        contracts: Contracts,
        audit: Audit,
        deadline: float,
    ) -> None:
        self.accounts = accounts
        self.profiles = profiles
        self.companies = companies
        self.contractors = contractors
        self.kyc = kyc
        self.contracts = contracts
        self.audit = audit
        self.deadline = deadline

    # users ------------------------------------------------------------------------

    async def users(
        self,
        *,
        email: str | None,
        role: str | None,
        status: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        return await self.accounts.search(
            email=email, role=role, status=status, limit=limit, cursor=cursor
        )

    async def user(self, actor: Actor, user_id: str) -> UserView:
        """The account and everything the other services hold about the person.
        Only an unknown account is a 404; any other source that fails is named
        in ``partial``."""
        d = self.deadline
        got = Gathered()
        account, profile, company, contractor = await asyncio.gather(
            settle("auth", self.accounts.get(user_id), d),
            settle("user", self.profiles.get(user_id), d),
            settle("client", self.companies.by_owner(user_id), d),
            settle("contractor", self.contractors.by_user(user_id), d),
        )
        if account is None:
            raise UserNotFound(f"No user {user_id}")
        if isinstance(account, Missing) and account.problem is not None:
            raise account.problem
        view = UserView(
            account=got.take(account),
            profile=got.take(profile),
            company=got.take(company),
            contractor=got.take(contractor),
            kyc=None,
            contracts=None,
        )
        kyc, contracts = await asyncio.gather(
            self._kyc_of(view.contractor),
            self._contracts_of(view.company, view.contractor),
        )
        view.kyc = got.take(kyc)
        view.contracts = got.take(contracts)
        view.partial = got.partial
        await self.audit.viewed(actor, "user.view", f"user:{user_id}")
        return view

    async def _kyc_of(self, contractor: Record | None) -> list[Record] | Missing | None:
        if contractor is None or "id" not in contractor:
            return None
        page = await settle("kyc", self.kyc.sessions(str(contractor["id"])), self.deadline)
        return page if isinstance(page, Missing) else page[0]

    async def _contracts_of(
        self, company: Record | None, contractor: Record | None
    ) -> list[Record] | Missing | None:
        if company is not None and "id" in company:
            call = self.contracts.page(company_id=str(company["id"]))
        elif contractor is not None and "id" in contractor:
            call = self.contracts.page(contractor_id=str(contractor["id"]))
        else:
            return None
        page = await settle("contract", call, self.deadline)
        return page if isinstance(page, Missing) else page[0]

    async def suspend(self, actor: Actor, user_id: str, reason: str) -> Record:
        """Sessions end at once; access tokens are refused fleet-wide within
        seconds (auth's ``user.suspended``)."""
        if user_id == actor.user_id:
            raise CannotSuspendSelf()
        before = await self._account(user_id)
        return await self.audit.change(
            actor,
            "user.suspend",
            f"user:{user_id}",
            reason=reason,
            before=before,
            apply=lambda: self.accounts.suspend(user_id, reason),
        )

    async def unsuspend(self, actor: Actor, user_id: str, reason: str) -> Record:
        before = await self._account(user_id)
        return await self.audit.change(
            actor,
            "user.unsuspend",
            f"user:{user_id}",
            reason=reason,
            before=before,
            apply=lambda: self.accounts.unsuspend(user_id, reason),
        )

    async def _account(self, user_id: str) -> Record:
        account = await self.accounts.get(user_id)
        if account is None:
            raise UserNotFound(f"No user {user_id}")
        return account

    # companies --------------------------------------------------------------------

    async def company_page(self, *, status: str | None, limit: int, cursor: str | None) -> Page:
        return await self.companies.page(status=status, limit=limit, cursor=cursor)

    async def company(self, actor: Actor, company_id: str) -> CompanyView:
        """The company (its only source is the client service) and its owner's account."""
        found = await settle("client", self.companies.get(company_id), self.deadline)
        if isinstance(found, Missing):
            raise one_source(found)
        if found is None:
            raise CompanyNotFound(f"No company {company_id}")
        got = Gathered()
        owner_id = found.get("ownerUserId")
        owner = (
            got.take(await settle("auth", self.accounts.get(str(owner_id)), self.deadline))
            if owner_id
            else None
        )
        await self.audit.viewed(actor, "company.view", f"company:{company_id}")
        return CompanyView(company=found, owner=owner, partial=got.partial)

    async def review_company(
        self, actor: Actor, company_id: str, decision: str, reason: str | None
    ) -> Record:
        """``approved`` → active, ``rejected`` → rejected (a company held for review)."""
        before = await self.companies.get(company_id)
        if before is None:
            raise CompanyNotFound(f"No company {company_id}")
        verb = "approve" if decision == "approved" else "reject"
        return await self.audit.change(
            actor,
            f"company.{verb}",
            f"company:{company_id}",
            reason=reason,
            before=before,
            apply=lambda: self.companies.review(company_id, decision, reason, actor.user_id),
        )

    async def revoke_company(self, actor: Actor, company_id: str, reason: str) -> Record:
        """An active company out of service (``rejected``), its registry number
        freed: how an admin sides with a claim held for that number."""
        before = await self.companies.get(company_id)
        if before is None:
            raise CompanyNotFound(f"No company {company_id}")
        return await self.audit.change(
            actor,
            "company.revoke",
            f"company:{company_id}",
            reason=reason,
            before=before,
            apply=lambda: self.companies.revoke(company_id, reason, actor.user_id),
        )

    async def backfill_members(self, actor: Actor, limit: int, cursor: str | None) -> Record:
        """One page of companies registered before teams get their owner
        member (idempotent; the operator's migration). Audited."""
        return await self.audit.change(
            actor,
            "company.backfill-members",
            "companies",
            reason=None,
            before={"cursor": cursor, "limit": limit},
            apply=lambda: self.companies.backfill_members(limit, cursor),
        )

    # contractors and KYC ----------------------------------------------------------

    async def contractor_page(
        self, *, kyc_status: str | None, limit: int, cursor: str | None
    ) -> Page:
        return await self.contractors.page(kyc_status=kyc_status, limit=limit, cursor=cursor)

    async def contractor(self, actor: Actor, contractor_id: str) -> ContractorView:
        """The contractor (its only source is the contractor service) with its
        KYC sessions and account."""
        d = self.deadline
        found, kyc = await asyncio.gather(
            settle("contractor", self.contractors.get(contractor_id), d),
            settle("kyc", self.kyc.sessions(contractor_id), d),
        )
        if isinstance(found, Missing):
            raise one_source(found)
        if found is None:
            raise ContractorNotFound(f"No contractor {contractor_id}")
        got = Gathered()
        user_id = str(found.get("userId") or "")
        account = got.take(await settle("auth", self.accounts.get(user_id), d)) if user_id else None
        sessions = got.take(kyc)
        target = f"user:{user_id}" if user_id else f"contractor:{contractor_id}"
        await self.audit.viewed(actor, "contractor.view", target)
        return ContractorView(
            contractor=found,
            account=account,
            kyc=sessions[0] if sessions is not None else None,
            partial=got.partial,
        )

    async def review_queue(self, *, limit: int, cursor: str | None) -> Page:
        return await self.kyc.review_queue(limit=limit, cursor=cursor)

    async def decide_kyc(self, actor: Actor, session_id: str, decision: str, reason: str) -> Record:
        """A human decision, with the same events as a provider's. ``before``:
        the session as kyc holds it (an unknown one is kyc's 404, nothing recorded)."""
        before = await state_before("kyc", self.kyc.session(session_id), self.deadline)
        verb = "approve" if decision == "approved" else "reject"
        return await self.audit.change(
            actor,
            f"kyc.{verb}",
            f"kyc-session:{session_id}",
            reason=reason,
            before=before,
            apply=lambda: self.kyc.decide(session_id, decision, reason, actor.user_id),
        )
