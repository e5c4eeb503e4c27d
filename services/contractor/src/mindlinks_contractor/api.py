"""Contractor routes: thin — parse, authorize, call the domain, respond."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from mindlinks_contractor.deps import Deps
from mindlinks_contractor.schemas import (
    AcceptedInvitation,
    AcceptInvitation,
    BankDetailsIn,
    BankDetailsOut,
    ContractorOut,
    ContractorPatch,
    EngagementOut,
    contractor_list_item,
    contractor_record,
    payout_details,
)
from mindlinks_fleet.internal import contractor as contractors_api
from mindlinks_fleet.internal.contractor import (
    ContractorListItem,
    ContractorRecord,
    KycStatus,
    PayoutDetails,
)
from mindlinks_kit.app import Transaction
from mindlinks_kit.auth import Principal, roles
from mindlinks_kit.internal import serve
from mindlinks_kit.schemas import Cursor, Id, Limit, Page
from mindlinks_kit.tenancy import Acting, acting_or

public = APIRouter(prefix="/v1/contractors", tags=["contractors"])
internal = APIRouter()
ContractorUser = Annotated[Principal, Depends(roles("contractor"))]
Viewer = Annotated[Acting, Depends(acting_or("contractors.read", "contractor", "admin"))]


@public.post("/accept-invitation")
async def accept_invitation(
    body: AcceptInvitation, user: ContractorUser, deps: Deps, uow: Transaction
) -> AcceptedInvitation:
    """Redeem an invitation: the profile on the first one, an engagement with
    the inviting company each time."""
    onboarded = await deps.contractors.accept_invitation(user.user_id, body.token, uow)
    return AcceptedInvitation.of(onboarded)


@public.get("/me")
async def me(user: ContractorUser, deps: Deps) -> ContractorOut:
    """The caller's contractor profile, with its KYC status."""
    return ContractorOut.of(await deps.contractors.own(user.user_id))


@public.patch("/me")
async def update_me(
    body: ContractorPatch, user: ContractorUser, deps: Deps, uow: Transaction
) -> ContractorOut:
    """Change the caller's contractor profile (optimistic locking with ``version``).
    Once KYC-verified, the legal name (``name``) is locked: ``409 legal-name-locked``."""
    profile = await deps.contractors.update(user.user_id, body.changes(), body.version, uow)
    return ContractorOut.of(profile)


@public.get("/me/engagements")
async def my_engagements(
    user: ContractorUser,
    deps: Deps,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[EngagementOut]:
    """The companies the contractor works with."""
    items, next_cursor = await deps.contractors.engagements(user.user_id, limit, cursor)
    return Page[EngagementOut](items=[EngagementOut.of(e) for e in items], next_cursor=next_cursor)


@public.put("/me/bank-details")
async def put_bank_details(
    body: BankDetailsIn, user: ContractorUser, deps: Deps, uow: Transaction
) -> BankDetailsOut:
    """Replace the payout account; answered (and later shown) masked only."""
    profile = await deps.contractors.own(user.user_id)
    details = await deps.bank.replace(profile.id, body.value(), body.version, uow)
    return BankDetailsOut.of(details)


@public.get("/me/bank-details")
async def get_bank_details(user: ContractorUser, deps: Deps) -> BankDetailsOut:
    """The payout account, masked."""
    profile = await deps.contractors.own(user.user_id)
    return BankDetailsOut.of(await deps.bank.get(profile.id))


@public.get("/{contractor_id}")
async def get_contractor(contractor_id: Id, user: Viewer, deps: Deps) -> ContractorOut:
    """The contractor themself, an admin, or a member of a company engaged
    with them (without private fields); anyone else gets 404."""
    visible = await deps.contractors.visible(
        contractor_id, user.user_id, user.principal.role, user.tenant_id
    )
    return ContractorOut.of(visible.profile, private=visible.private)


# internal ---------------------------------------------------------------------


@serve(internal, contractors_api.CONTRACTORS)
async def contractors(
    deps: Deps,
    kyc_status: Annotated[KycStatus | None, Query(alias="kycStatus")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ContractorListItem]:
    """Contractors for the admin service: of one KYC status newest first, or all."""
    profiles, next_cursor = await deps.contractors.page(kyc_status, limit, cursor)
    company_ids = await asyncio.gather(*(deps.contractors.company_ids(p.id) for p in profiles))
    return Page[ContractorListItem](
        items=[contractor_list_item(p, ids) for p, ids in zip(profiles, company_ids, strict=True)],
        next_cursor=next_cursor,
    )


@serve(internal, contractors_api.CONTRACTOR_BY_USER)
async def contractor_by_user(user_id: Id, deps: Deps) -> ContractorRecord:
    profile = await deps.contractors.by_user(user_id)
    return contractor_record(profile, await deps.contractors.company_ids(profile.id))


@serve(internal, contractors_api.CONTRACTOR)
async def contractor(contractor_id: Id, deps: Deps) -> ContractorRecord:
    profile = await deps.contractors.get(contractor_id)
    return contractor_record(profile, await deps.contractors.company_ids(profile.id))


@serve(internal, contractors_api.PAYOUT_DETAILS)
async def get_payout_details(contractor_id: Id, deps: Deps) -> PayoutDetails:
    """Decrypted bank details: for the payment service only."""
    await deps.contractors.get(contractor_id)
    return payout_details(contractor_id, await deps.bank.payout(contractor_id))
