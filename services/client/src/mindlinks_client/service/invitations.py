"""The invitation use cases: a client invites a contractor by email with a
single-use token (kept only as its SHA-256, valid ``ttl``), at most one
pending invitation per email and company, revocable until redeemed; the
contractor service redeems it exactly once.

No FastAPI here; routes commit the unit of work, never this module.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Protocol
from urllib.parse import urlencode

from mindlinks_client.domain import (
    AlreadyEngaged,
    Company,
    Guard,
    Invitation,
    InvitationPending,
    NewInvitation,
    Redemption,
    email_key,
    iso,
    parse_iso,
    token_hash,
)
from mindlinks_client.service.companies import Companies
from mindlinks_fleet.events import InvitationCreated
from mindlinks_fleet.internal.client import (
    CompanyNotActive,
    EmailMismatch,
    InvitationAccepted,
    InvitationExpired,
    InvitationNotFound,
    InvitationRevoked,
    InvitationUsed,
)
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import CursorCodec, Item, UnitOfWork
from mindlinks_kit.runtime import Publish


class Store(Protocol):
    async def invitation(self, invitation_id: str) -> Invitation | None: ...
    async def by_token(self, token_hash: str) -> Invitation | None: ...
    async def guard(self, company_id: str, email: str) -> Guard | None: ...
    def add(
        self, uow: UnitOfWork, invitation: Invitation, guard: Guard, retention: int
    ) -> None: ...
    def revoke(self, uow: UnitOfWork, invitation: Invitation, release_guard: bool) -> None: ...
    def accept(self, uow: UnitOfWork, invitation: Invitation) -> None: ...
    async def page(
        self, company_id: str, limit: int, start: Item | None, accepted_only: bool
    ) -> tuple[list[Invitation], Item | None]: ...


class Mail(Protocol):
    async def invitation(
        self,
        *,
        invitation_id: str,
        email: str,
        name: str | None,
        invite_url: str,
        token: str,
        company_name: str,
        inviter_name: str,
    ) -> None: ...


class Names(Protocol):
    async def name(self, user_id: str) -> str | None: ...


class Invitations:
    def __init__(
        self,
        store: Store,
        companies: Companies,
        publish: Publish,
        cursors: CursorCodec,
        *,
        mail: Mail,
        names: Names,
        accept_url: str,
        ttl: int,
        retention: int,
    ) -> None:
        self.store = store
        self.companies = companies
        self.publish = publish
        self.cursors = cursors
        self.mail = mail
        self.names = names
        self.accept_url = accept_url
        """Where the mailed link points; the token is added as ``?token=``."""
        self.ttl = ttl
        self.retention = retention

    async def invite(
        self, company_id: str, inviter_user_id: str, email: str, name: str | None, uow: UnitOfWork
    ) -> Invitation:
        """Mail the token first and only then record the invitation (in ``uow``):
        a failed mail leaves nothing behind, so the client can simply retry."""
        company = await self.companies.get(company_id)
        new = await self.prepare(company, email, name, inviter_user_id)
        inviter = await self.names.name(inviter_user_id) or company.legal_name
        await self.mail.invitation(
            invitation_id=new.invitation.id,
            email=new.invitation.email,
            name=name,
            invite_url=f"{self.accept_url}?{urlencode({'token': new.token})}",
            token=new.token,
            company_name=company.legal_name,
            inviter_name=inviter,
        )
        await self.record(new, uow)
        return new.invitation

    async def prepare(
        self, company: Company, email: str, name: str | None, invited_by: str
    ) -> NewInvitation:
        """A new invitation (not stored yet: the mail goes out first), refused
        when the address already has a pending invitation or is engaged."""
        if company.status != "active":
            raise CompanyNotActive(f"The company is {company.status.replace('_', ' ')}")
        address = email_key(email)
        await self._check_free(company.id, address)
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        invitation = Invitation(
            id=uuid.uuid4().hex,
            company_id=company.id,
            company_name=company.legal_name,
            email=address,
            name=name,
            token_hash=token_hash(token),
            status="pending",
            invited_by_user_id=invited_by,
            created_at=iso(now),
            expires_at=iso(now + timedelta(seconds=self.ttl)),
        )
        return NewInvitation(invitation, token)

    async def _check_free(self, company_id: str, address: str) -> None:
        guard = await self.store.guard(company_id, address)
        if guard is not None and guard.blocks(time.time()):
            raise AlreadyEngaged() if guard.state == "accepted" else InvitationPending()

    async def record(self, new: NewInvitation, uow: UnitOfWork) -> None:
        """Store the (mailed) invitation and announce it, without the token. A
        concurrent invitation of the same address fails the commit (409)."""
        invitation = new.invitation
        guard = Guard(
            invitation_id=invitation.id,
            state="pending",
            expires_epoch=int(parse_iso(invitation.expires_at).timestamp()),
        )
        self.store.add(uow, invitation, guard, self.retention)
        self.publish(
            uow,
            "invitation.created",
            InvitationCreated(
                invitation_id=invitation.id,
                company_id=invitation.company_id,
                company_name=invitation.company_name,
                email=invitation.email,
                invited_by_user_id=invitation.invited_by_user_id,
                expires_at=invitation.expires_at,
            ),
        )

    async def of_company(self, company_id: str, invitation_id: str) -> Invitation:
        invitation = await self.store.invitation(invitation_id)
        if invitation is None or invitation.company_id != company_id:
            raise InvitationNotFound()
        return invitation

    async def revoke(self, company_id: str, invitation_id: str, uow: UnitOfWork) -> None:
        """Pending (or expired) → revoked; revoking twice is the same as once."""
        invitation = await self.of_company(company_id, invitation_id)
        if invitation.status == "revoked":
            return
        if invitation.status == "accepted":
            raise InvitationAccepted()
        guard = await self.store.guard(company_id, invitation.email)
        holds = guard is not None and guard.invitation_id == invitation.id
        self.store.revoke(uow, replace(invitation, revoked_at=now_iso()), release_guard=holds)

    async def redeem(
        self,
        token: str,
        *,
        contractor_id: str,
        contractor_user_id: str,
        email: str,
        name: str | None,
        uow: UnitOfWork,
    ) -> Redemption:
        """Once per token. The same contractor redeeming again gets the same
        answer (its own transaction may have failed after ours committed)."""
        invitation = await self.store.by_token(token_hash(token))
        if invitation is None:
            raise InvitationNotFound()
        if invitation.status == "accepted":
            if invitation.contractor_id == contractor_id:
                return Redemption(invitation, replayed=True)
            raise InvitationUsed()
        if invitation.status == "revoked":
            raise InvitationRevoked()
        if invitation.expired():
            raise InvitationExpired()
        if email_key(email) != invitation.email:
            raise EmailMismatch()
        company = await self.companies.get(invitation.company_id)
        if company.status != "active":
            raise CompanyNotActive(f"The company is {company.status.replace('_', ' ')}")
        accepted = replace(
            invitation,
            status="accepted",
            accepted_at=now_iso(),
            contractor_id=contractor_id,
            contractor_user_id=contractor_user_id,
            contractor_name=name,
        )
        self.store.accept(uow, accepted)
        return Redemption(accepted, replayed=False)

    async def page(
        self, company_id: str, limit: int, cursor: str | None, *, accepted_only: bool = False
    ) -> tuple[list[Invitation], str | None]:
        """The company's invitations (or only the accepted ones: its
        contractors), newest first; a cursor works only for the list it came from."""
        scope = f"{'contractors' if accepted_only else 'invitations'}:{company_id}"
        start = self.cursors.decode(cursor, scope)
        items, last = await self.store.page(company_id, limit, start, accepted_only)
        return items, self.cursors.encode(last, scope)
