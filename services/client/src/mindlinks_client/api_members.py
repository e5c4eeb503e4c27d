"""Company team routes: members, member invitations, the caller's
memberships, the audit of changes. Thin — parse, authorize, call the
service, respond."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from mindlinks_client.api import ClientUser, company_of, public
from mindlinks_client.deps import Deps
from mindlinks_client.schemas import (
    AcceptMemberInvitation,
    InviteMember,
    MemberChangeOut,
    MemberInvitationOut,
    MemberOut,
    MemberPatch,
    MembershipOut,
    MembershipsOut,
)
from mindlinks_client.service.member_invitations import Joined
from mindlinks_kit.app import Transaction
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.schemas import Cursor, Id, Limit, Page
from mindlinks_kit.tenancy import Acting, acting

router = APIRouter(prefix=public.prefix, tags=["clients"])
Reader = Annotated[Acting, Depends(acting("members.read"))]
Manager = Annotated[Acting, Depends(acting("members.manage"))]


@router.get("/me/members")
async def members(
    actor: Reader, deps: Deps, limit: Limit = 20, cursor: Cursor = None
) -> Page[MemberOut]:
    """The company's members, with their email, name and role."""
    items, next_cursor = await deps.members.page(company_of(actor), limit, cursor)
    return Page[MemberOut](
        items=[MemberOut.of(i.member, i.user) for i in items], next_cursor=next_cursor
    )


@router.patch("/me/members/{user_id}")
async def change_member_role(
    user_id: Id, body: MemberPatch, actor: Manager, deps: Deps, uow: Transaction
) -> MemberOut:
    """Give a member another role (optimistic locking with ``version``).
    Nobody raises their own role; only an owner grants or takes away
    ``owner``; the last owner stays one."""
    member = await deps.members.change_role(
        company_of(actor), actor.user_id, user_id, body.role, body.version, uow
    )
    found = await deps.members.accounts([user_id])
    return MemberOut.of(member, found.get(user_id))


# Any member may remove themself (leave): the route lets every member in and
# the service asks for ``members.manage`` when the member removed is another.
@router.delete("/me/members/{user_id}", status_code=204)
async def remove_member(user_id: Id, actor: Reader, deps: Deps, uow: Transaction) -> Response:
    """Remove a member (``members.manage``), or leave the company (your own
    user id, any role). Their access ends within seconds everywhere."""
    await deps.members.remove(company_of(actor), actor.user_id, user_id, uow)
    return Response(status_code=204)


@router.post("/me/member-invitations", status_code=201)
async def invite_member(
    body: InviteMember, actor: Manager, deps: Deps, uow: Transaction
) -> MemberInvitationOut:
    """Mail a single-use invitation (valid 7 days) to join the team in a role."""
    invitation = await deps.member_invitations.invite(
        company_of(actor), actor.user_id, body.email, body.role, uow
    )
    return MemberInvitationOut.of(invitation)


@router.get("/me/member-invitations")
async def member_invitations(
    actor: Reader, deps: Deps, limit: Limit = 20, cursor: Cursor = None
) -> Page[MemberInvitationOut]:
    """The company's member invitations, newest first."""
    items, next_cursor = await deps.member_invitations.page(company_of(actor), limit, cursor)
    return Page[MemberInvitationOut](
        items=[MemberInvitationOut.of(i) for i in items], next_cursor=next_cursor
    )


@router.delete("/me/member-invitations/{invitation_id}", status_code=204)
async def revoke_member_invitation(
    invitation_id: Id, actor: Manager, deps: Deps, uow: Transaction
) -> Response:
    """Revoke a pending member invitation; its token stops working."""
    await deps.member_invitations.revoke(company_of(actor), invitation_id, uow)
    return Response(status_code=204)


@router.post("/member-invitations/accept")
async def accept_member_invitation(
    body: AcceptMemberInvitation, user: ClientUser, deps: Deps
) -> MembershipOut:
    """Join the company that invited the caller's email address, in the
    invitation's role (once; the same account again gets the same answer)."""

    async def stage(uow: UnitOfWork) -> Joined:
        # Staged again when a concurrent accept came first: it finds the
        # invitation accepted, by this account (the same answer) or not.
        return await deps.member_invitations.accept(body.token, user.user_id, uow)

    joined = await deps.runtime.commit_retrying(stage, attempts=2)
    return MembershipOut.of(joined.company, joined.member.role)


@router.get("/memberships")
async def memberships(user: ClientUser, deps: Deps) -> MembershipsOut:
    """The companies the caller is a member of, and their role in each (no
    company header needed)."""
    found = await deps.members.memberships(user.user_id)
    return MembershipsOut(items=[MembershipOut.of(m.company, m.member.role) for m in found])


@router.get("/me/member-changes")
async def member_changes(
    actor: Reader, deps: Deps, limit: Limit = 20, cursor: Cursor = None
) -> Page[MemberChangeOut]:
    """Who was added, re-roled or removed, by whom and when; newest first."""
    items, next_cursor = await deps.members.history(company_of(actor), limit, cursor)
    return Page[MemberChangeOut](
        items=[MemberChangeOut.of(c) for c in items], next_cursor=next_cursor
    )
