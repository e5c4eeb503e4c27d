"""Users, companies, contractors and the KYC review queue."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query

from mindlinks_admin.api.common import AdminActor, admin_router, page_of
from mindlinks_admin.deps import Deps
from mindlinks_admin.schemas import (
    BackfillIn,
    CompanyOut,
    ContractorOut,
    OptionalReasonIn,
    ReasonIn,
    Record,
    UserOut,
)
from mindlinks_kit.schemas import Cursor, Id, Limit, Page

router = admin_router("admin: people")
Role = Literal["client", "contractor", "admin"]
AccountStatus = Literal["active", "suspended"]
CompanyStatus = Literal["active", "pending_review", "rejected"]
KycStatus = Literal["not_started", "verified", "rejected"]


@router.get("/users")
async def users(
    actor: AdminActor,
    deps: Deps,
    email: Annotated[str | None, Query(min_length=3, max_length=320)] = None,
    role: Role | None = None,
    status: AccountStatus | None = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[dict[str, Any]]:
    """Accounts (auth), by email, role and status."""
    return page_of(
        await deps.people.users(email=email, role=role, status=status, limit=limit, cursor=cursor)
    )


@router.get("/users/{user_id}")
async def user(user_id: Id, actor: AdminActor, deps: Deps) -> UserOut:
    """One person across the fleet — account, profile, company or contractor
    profile, KYC sessions, contracts — with ``partial`` naming any service that
    did not answer. Audited as ``viewed``."""
    return UserOut.of(await deps.people.user(actor, user_id))


@router.post("/users/{user_id}/suspend")
async def suspend(user_id: Id, body: ReasonIn, actor: AdminActor, deps: Deps) -> Record:
    """Suspend: sessions end at once, access tokens are refused fleet-wide
    within seconds. Audited (``requested``, then ``succeeded``/``failed``)."""
    return await deps.people.suspend(actor, user_id, body.reason)


@router.post("/users/{user_id}/unsuspend")
async def unsuspend(user_id: Id, body: ReasonIn, actor: AdminActor, deps: Deps) -> Record:
    """Lift a suspension. Audited."""
    return await deps.people.unsuspend(actor, user_id, body.reason)


@router.get("/companies")
async def companies(
    actor: AdminActor,
    deps: Deps,
    status: CompanyStatus | None = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[dict[str, Any]]:
    """Companies (client), e.g. ``status=pending_review`` for the registry review."""
    return page_of(await deps.people.company_page(status=status, limit=limit, cursor=cursor))


@router.get("/companies/{company_id}")
async def company(company_id: Id, actor: AdminActor, deps: Deps) -> CompanyOut:
    """One company with its owner's account. Audited as ``viewed``."""
    return CompanyOut.of(await deps.people.company(actor, company_id))


@router.post("/companies/{company_id}/approve")
async def approve_company(
    company_id: Id, body: OptionalReasonIn, actor: AdminActor, deps: Deps
) -> Record:
    """A company held for registry review becomes ``active``. Audited."""
    return await deps.people.review_company(actor, company_id, "approved", body.reason)


@router.post("/companies/{company_id}/reject")
async def reject_company(company_id: Id, body: ReasonIn, actor: AdminActor, deps: Deps) -> Record:
    """A company held for registry review is ``rejected`` (its owner is told why). Audited."""
    return await deps.people.review_company(actor, company_id, "rejected", body.reason)


@router.post("/companies/{company_id}/revoke")
async def revoke_company(company_id: Id, body: ReasonIn, actor: AdminActor, deps: Deps) -> Record:
    """An active company is taken out of service (``rejected``, its owner told
    why) and its registry number freed, e.g. for a claim held for it. Audited."""
    return await deps.people.revoke_company(actor, company_id, body.reason)


@router.post("/company-members/backfill")
async def backfill_members(body: BackfillIn, actor: AdminActor, deps: Deps) -> dict[str, Any]:
    """Companies registered before teams get their registering account as
    owner member: one page of companies per call (``nextCursor`` until
    ``null``); running it again adds nothing. Audited."""
    return await deps.people.backfill_members(actor, body.limit, body.cursor)


@router.get("/contractors")
async def contractors(
    actor: AdminActor,
    deps: Deps,
    kyc_status: Annotated[KycStatus | None, Query(alias="kycStatus")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[dict[str, Any]]:
    """Contractors (contractor), by KYC status."""
    return page_of(
        await deps.people.contractor_page(kyc_status=kyc_status, limit=limit, cursor=cursor)
    )


@router.get("/contractors/{contractor_id}")
async def contractor(contractor_id: Id, actor: AdminActor, deps: Deps) -> ContractorOut:
    """One contractor with its KYC sessions and account. Audited as ``viewed``."""
    return ContractorOut.of(await deps.people.contractor(actor, contractor_id))


@router.get("/kyc/review-queue")
async def review_queue(
    actor: AdminActor, deps: Deps, limit: Limit = 20, cursor: Cursor = None
) -> Page[dict[str, Any]]:
    """KYC sessions waiting for a human (``in_review``), oldest first."""
    return page_of(await deps.people.review_queue(limit=limit, cursor=cursor))


@router.post("/kyc/sessions/{session_id}/approve")
async def approve_kyc(session_id: Id, body: ReasonIn, actor: AdminActor, deps: Deps) -> Record:
    """A human approval: the same events as a provider's. Audited."""
    return await deps.people.decide_kyc(actor, session_id, "approved", body.reason)


@router.post("/kyc/sessions/{session_id}/reject")
async def reject_kyc(session_id: Id, body: ReasonIn, actor: AdminActor, deps: Deps) -> Record:
    """A human rejection (``declined``): the same events as a provider's. Audited."""
    return await deps.people.decide_kyc(actor, session_id, "declined", body.reason)
