"""The member invitation use cases: a member with ``members.manage`` invites
someone by email to the team in a role, with a single-use token (kept only
as its SHA-256, valid ``ttl``), at most one pending invitation per address
and company, revocable until accepted; any signed-in client account whose
email is the invitation's accepts it once and becomes a member.

No FastAPI here; routes commit the unit of work, never this module.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol
from urllib.parse import urlencode

from mindlinks_client.domain import AlreadyMember, Company, Member, email_key, iso, token_hash
from mindlinks_client.service.companies import Companies
from mindlinks_client.service.members import MemberChanges, Members
from mindlinks_client.store.member_invitations import MemberInvitationStore
from mindlinks_client.teams import (
    MemberInvitation,
    MemberInvitationNotFound,
    MemberInvitationPending,
    check_grant,
    check_manage,
)
from mindlinks_fleet.internal.client import (
    EmailMismatch,
    InvitationAccepted,
    InvitationExpired,
    InvitationNotFound,
    InvitationRevoked,
    InvitationUsed,
)
from mindlinks_fleet.teams import CompanyRole
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import CursorCodec, UnitOfWork


class Mail(Protocol):
    async def member_invitation(
        self,
        *,
        invitation_id: str,
        email: str,
        invite_url: str,
        token: str,
        company_name: str,
        inviter_name: str,
        role: str,
    ) -> None: ...


@dataclass(frozen=True)
class Joined:
    company: Company
    member: Member
    replayed: bool


class MemberInvitations:
    def __init__(
        self,
        store: MemberInvitationStore,
        members: Members,
        writes: MemberChanges,
        companies: Companies,
        cursors: CursorCodec,
        *,
        mail: Mail,
        accept_url: str,
        ttl: int,
        retention: int,
    ) -> None:
        self.store = store
        self.members = members
        self.writes = writes
        self.companies = companies
        self.cursors = cursors
        self.mail = mail
        self.accept_url = accept_url
        """Where the mailed link points; the token is added as ``?token=``."""
        self.ttl = ttl
        self.retention = retention

    async def invite(
        self, company_id: str, actor_user_id: str, email: str, role: CompanyRole, uow: UnitOfWork
    ) -> MemberInvitation:
        """Mail the token first and only then record the invitation (in
        ``uow``): a failed mail leaves nothing behind, so the caller may retry.
        A concurrent invitation of the same address fails the commit (409)."""
        company = await self.companies.get(company_id)
        actor = await self.members.acting_member(company_id, actor_user_id)
        check_manage(actor)
        check_grant(actor.role, role)
        address = email_key(email)
        everyone = await self.members.store.of_company(company_id)
        accounts = await self.members.accounts([m.user_id for m in everyone])
        if any(email_key(a.email) == address for a in accounts.values()):
            raise AlreadyMember()
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        invitation = MemberInvitation(
            id=uuid.uuid4().hex,
            company_id=company.id,
            company_name=company.trading_name or company.legal_name,
            email=address,
            role=role,
            token_hash=token_hash(token),
            status="pending",
            invited_by_user_id=actor_user_id,
            created_at=iso(now),
            expires_at=iso(now + timedelta(seconds=self.ttl)),
        )
        # Refused before mailing when a pending invitation holds the address
        # (the conditional write in ``store.add`` is the guarantee).
        if await self.store.pending_for(company_id, address):
            raise MemberInvitationPending()
        inviter = accounts.get(actor_user_id)
        await self.mail.member_invitation(
            invitation_id=invitation.id,
            email=address,
            invite_url=f"{self.accept_url}?{urlencode({'token': token})}",
            token=token,
            company_name=invitation.company_name,
            inviter_name=inviter.name if inviter else invitation.company_name,
            role=role.value,
        )
        self.store.add(uow, invitation, self.retention)
        return invitation

    async def of_company(self, company_id: str, invitation_id: str) -> MemberInvitation:
        invitation = await self.store.invitation(invitation_id)
        if invitation is None or invitation.company_id != company_id:
            raise MemberInvitationNotFound()
        return invitation

    async def revoke(self, company_id: str, invitation_id: str, uow: UnitOfWork) -> None:
        """Pending (or expired) → revoked; revoking twice is the same as once."""
        invitation = await self.of_company(company_id, invitation_id)
        if invitation.status == "revoked":
            return
        if invitation.status == "accepted":
            raise InvitationAccepted()
        self.store.revoke(uow, replace(invitation, revoked_at=now_iso()))

    async def page(
        self, company_id: str, limit: int, cursor: str | None
    ) -> tuple[list[MemberInvitation], str | None]:
        scope = f"member-invitations:{company_id}"
        items, last = await self.store.page(company_id, limit, self.cursors.decode(cursor, scope))
        return items, self.cursors.encode(last, scope)

    async def accept(self, token: str, user_id: str, uow: UnitOfWork) -> Joined:
        """Once per token, by the account the invitation was mailed to; the
        same account accepting again gets the same answer."""
        invitation = await self.store.by_token(token_hash(token))
        if invitation is None:
            raise InvitationNotFound()
        company = await self.companies.get(invitation.company_id)
        if invitation.status == "accepted":
            if invitation.accepted_by_user_id == user_id:
                member = await self.members.store.member(company.id, user_id)
                if member is not None:
                    return Joined(company, member, replayed=True)
            raise InvitationUsed()
        if invitation.status == "revoked":
            raise InvitationRevoked()
        if invitation.expired():
            raise InvitationExpired()
        account = await self.members.users.user(user_id)
        if account is None or email_key(account.email) != invitation.email:
            raise EmailMismatch()
        if await self.members.store.member(company.id, user_id) is not None:
            raise AlreadyMember()
        at = now_iso()
        accepted = replace(
            invitation, status="accepted", accepted_at=at, accepted_by_user_id=user_id
        )
        member = Member(company.id, user_id, invitation.role, at, invitation.invited_by_user_id)
        self.store.accept(uow, accepted)
        self.members.store.add(uow, member, on_conflict=AlreadyMember())
        self.writes.record(uow, company, "added", user_id, invitation.role, None, user_id)
        return Joined(company, member, replayed=False)
