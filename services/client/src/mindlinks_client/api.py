"""Client routes: thin — parse, authorize, call the domain, respond."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from mindlinks_client.deps import ClientDeps, Deps
from mindlinks_client.domain import Company
from mindlinks_client.schemas import (
    CompanyOut,
    CompanyPatch,
    EngagedContractor,
    InvitationOut,
    InviteContractor,
    RegisterCompany,
    company_admin_record,
    company_record,
    redeemed,
)
from mindlinks_client.vetting import Status
from mindlinks_fleet.internal import client
from mindlinks_fleet.internal.client import (
    BackfillMembers,
    CompanyAdminRecord,
    CompanyMember,
    CompanyMembers,
    CompanyRecord,
    MemberRecord,
    MembersBackfilled,
    Memberships,
    Redeemed,
    RedeemInvitation,
    ReviewCompany,
    RevokeCompany,
)
from mindlinks_kit.app import Transaction
from mindlinks_kit.auth import Internal, Principal, roles
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.errors import Forbidden
from mindlinks_kit.internal import serve
from mindlinks_kit.schemas import Cursor, Id, Limit, Page
from mindlinks_kit.tenancy import Acting, acting

public = APIRouter(prefix="/v1/clients", tags=["clients"])
internal = APIRouter()
ClientUser = Annotated[Principal, Depends(roles("client"))]


@public.post("/register", status_code=201)
async def register(body: RegisterCompany, user: ClientUser, deps: Deps) -> CompanyOut:
    """Register the caller's company, checked against the business registry."""
    form = body.value()
    vetted = await deps.companies.vet(user.user_id, form)

    async def stage(uow: UnitOfWork) -> Company:
        # Staged again when a concurrent registration took the number first.
        return await deps.companies.register(user.user_id, form, vetted, uow)

    return CompanyOut.of(await deps.runtime.commit_retrying(stage, attempts=2))


def company_of(actor: Acting) -> str:
    """The company a member acts for (``acting`` always resolves one here)."""
    assert actor.tenant_id is not None
    return actor.tenant_id


@public.get("/me")
async def my_company(
    actor: Annotated[Acting, Depends(acting("company.read"))], deps: Deps
) -> CompanyOut:
    """The company the caller acts for."""
    return CompanyOut.of(await deps.companies.get(company_of(actor)))


@public.patch("/me")
async def update_my_company(
    body: CompanyPatch,
    actor: Annotated[Acting, Depends(acting("company.update"))],
    deps: Deps,
    uow: Transaction,
) -> CompanyOut:
    """Change the company's trading name or address (optimistic locking with ``version``)."""
    company = await deps.companies.update(company_of(actor), body.changes(), body.version, uow)
    return CompanyOut.of(company)


@public.post("/invite-contractor", status_code=201)
async def invite_contractor(
    body: InviteContractor,
    actor: Annotated[Acting, Depends(acting("contractors.invite"))],
    deps: Deps,
    uow: Transaction,
) -> InvitationOut:
    """Mail a single-use invitation (valid 7 days) to a contractor."""
    invitation = await deps.invitations.invite(
        company_of(actor), actor.user_id, body.email, body.name, uow
    )
    return InvitationOut.of(invitation)


@public.get("/invitations")
async def invitations(
    actor: Annotated[Acting, Depends(acting("contractors.read"))],
    deps: Deps,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[InvitationOut]:
    """The company's invitations, newest first."""
    items, next_cursor = await deps.invitations.page(company_of(actor), limit, cursor)
    return Page[InvitationOut](items=[InvitationOut.of(i) for i in items], next_cursor=next_cursor)


@public.delete("/invitations/{invitation_id}", status_code=204)
async def revoke_invitation(
    invitation_id: Id,
    actor: Annotated[Acting, Depends(acting("contractors.invite"))],
    deps: Deps,
    uow: Transaction,
) -> Response:
    """Revoke a pending invitation; its token stops working."""
    await deps.invitations.revoke(company_of(actor), invitation_id, uow)
    return Response(status_code=204)


@public.get("/contractors")
async def contractors(
    actor: Annotated[Acting, Depends(acting("contractors.read"))],
    deps: Deps,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[EngagedContractor]:
    """The contractors who accepted the company's invitations."""
    items, next_cursor = await deps.invitations.page(
        company_of(actor), limit, cursor, accepted_only=True
    )
    return Page[EngagedContractor](
        items=[EngagedContractor.of(i) for i in items], next_cursor=next_cursor
    )


# internal ---------------------------------------------------------------------


@serve(internal, client.COMPANIES)
async def companies(
    deps: Deps,
    status: Status | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[CompanyAdminRecord]:
    """Companies for the admin service: of one status newest first, or all."""
    items, next_cursor = await deps.companies.page(status, limit, cursor)
    return Page[CompanyAdminRecord](
        items=[company_admin_record(c) for c in items], next_cursor=next_cursor
    )


@serve(internal, client.REVIEW)
async def review_company(company_id: Id, body: ReviewCompany, deps: Deps) -> CompanyAdminRecord:
    """An admin's decision on a company held for review; publishes
    ``company.reviewed``. The same decision again answers the company."""
    await _review(deps, company_id, body)
    return company_admin_record(await deps.companies.get(company_id))


@serve(internal, client.REVOKE)
async def revoke_company(company_id: Id, body: RevokeCompany, deps: Deps) -> CompanyAdminRecord:
    """An admin takes an active company out of service (``rejected``) and
    frees its registry number; publishes ``company.reviewed``."""

    async def stage(uow: UnitOfWork) -> Company:
        return await deps.companies.revoke(company_id, body.reason, body.decided_by, uow)

    return company_admin_record(await deps.runtime.commit_retrying(stage, attempts=2))


async def _review(deps: ClientDeps, company_id: str, body: ReviewCompany) -> None:
    """A decision that lost a race to a concurrent one is decided again: the
    re-read finds the winner's, which is ours (a retry) or a 409."""

    async def stage(uow: UnitOfWork) -> None:
        await deps.companies.review(company_id, body.decision, body.reason, body.decided_by, uow)

    await deps.runtime.commit_retrying(stage, attempts=2)


@serve(internal, client.COMPANY_BY_OWNER)
async def company_by_owner(user_id: Id, deps: Deps) -> CompanyRecord:
    return company_record(await deps.companies.own(user_id))


@serve(internal, client.COMPANY)
async def company(company_id: Id, deps: Deps) -> CompanyRecord:
    return company_record(await deps.companies.get(company_id))


@serve(internal, client.BACKFILL_MEMBERS)
async def backfill_members(body: BackfillMembers, deps: Deps) -> MembersBackfilled:
    """The operator's migration: the owner member of each company registered
    before teams (``mindlinks-ops companies backfill-members``)."""
    done = await deps.backfill.page(body.limit, body.cursor)
    return MembersBackfilled(scanned=done.scanned, added=done.added, next_cursor=done.next_cursor)


@serve(internal, client.MEMBERSHIPS)
async def memberships(user_id: Id, deps: Deps) -> Memberships:
    """What every other service's ``acting(action)`` checks a member against."""
    found = await deps.members.store.of_user(user_id)
    return Memberships(items=[MemberRecord(company_id=m.company_id, role=m.role) for m in found])


@serve(internal, client.COMPANY_MEMBERS)
async def company_members(company_id: Id, deps: Deps) -> CompanyMembers:
    """Whom a company-wide notice goes to (notification: a disabled webhook)."""
    found = await deps.members.store.of_company(company_id)
    return CompanyMembers(items=[CompanyMember(user_id=m.user_id, role=m.role) for m in found])


@serve(internal, client.REDEEM_INVITATION)
async def redeem_invitation(body: RedeemInvitation, caller: Internal, deps: Deps) -> Redeemed:
    """The contractor service redeems a token for its user, once."""
    if caller.user is not None and caller.user.user_id != body.user_id:
        raise Forbidden("The token was presented for another user")
    uow = deps.runtime.uow()
    redemption = await deps.invitations.redeem(
        body.token,
        contractor_id=body.contractor_id,
        contractor_user_id=body.user_id,
        email=body.email,
        name=body.name,
        uow=uow,
    )
    await uow.commit()
    return redeemed(redemption.invitation, redemption.replayed)
