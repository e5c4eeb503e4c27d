"""The team use cases: a company's members listed with their names, a
member's role changed, a member removed (or leaving), a user's companies,
the audit of changes; and ``MemberChanges.apply``, the one way a membership
changes: the member's two items, the audit item and the
``company.member-*`` event in one transaction (registration writes the
first owner through ``Companies.register``; accepting an invitation adds
through ``service.member_invitations``).

No FastAPI here; routes commit the unit of work, never this module.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import structlog

from mindlinks_client.domain import Company, Member
from mindlinks_client.service.companies import Companies
from mindlinks_client.store.members import ChangeStore, MemberStore
from mindlinks_client.teams import (
    ChangeKind,
    MemberChange,
    MemberNotFound,
    check_removal,
    check_role_change,
)
from mindlinks_fleet.events import CompanyMemberChanged
from mindlinks_fleet.internal.auth import UserRecord
from mindlinks_fleet.teams import CompanyNotFound, CompanyRole
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import ConditionFailed, CursorCodec, StaleVersion, UnitOfWork
from mindlinks_kit.runtime import Publish

log = structlog.get_logger("mindlinks.members")

EVENTS: dict[ChangeKind, str] = {
    "added": "company.member-added",
    "role-changed": "company.member-role-changed",
    "removed": "company.member-removed",
}


class Users(Protocol):
    async def user(self, user_id: str) -> UserRecord | None: ...


@dataclass(frozen=True)
class Listed:
    member: Member
    user: UserRecord | None
    """``None``: auth no longer knows the account."""


@dataclass(frozen=True)
class Membership:
    member: Member
    company: Company


class MemberChanges:
    """Writes a membership change with its audit item and its event."""

    def __init__(
        self,
        members: MemberStore,
        changes: ChangeStore,
        publish: Publish,
        forget: Callable[[str], None] | None = None,
    ) -> None:
        self.members = members
        self.changes = changes
        self.publish = publish
        self.forget = forget
        """Drops this process's cached memberships of a user once a change
        commits (other processes drop theirs on the event)."""

    def record(
        self,
        uow: UnitOfWork,
        company: Company,
        change: ChangeKind,
        user_id: str,
        role: CompanyRole | None,
        previous_role: CompanyRole | None,
        actor_user_id: str,
    ) -> MemberChange:
        """The audit item and the event (the caller stages the member's items)."""
        at = now_iso()
        audited = MemberChange(
            company_id=company.id,
            change_id=f"{at}#{uuid.uuid4().hex[:12]}",
            change=change,
            user_id=user_id,
            role=role,
            previous_role=previous_role,
            actor_user_id=actor_user_id,
            at=at,
        )
        self.changes.append(uow, audited)
        if self.forget is not None:
            forget = self.forget
            uow.after_commit.append(lambda: forget(user_id))
        self.publish(
            uow,
            EVENTS[change],
            CompanyMemberChanged(
                company_id=company.id,
                company_name=company.trading_name or company.legal_name,
                user_id=user_id,
                role=role.value if role else None,
                previous_role=previous_role.value if previous_role else None,
                actor_user_id=actor_user_id,
            ),
        )
        return audited

    def add(
        self, uow: UnitOfWork, company: Company, member: Member, on_conflict: Exception
    ) -> None:
        self.members.add(uow, member, on_conflict=on_conflict)
        self.record(
            uow, company, "added", member.user_id, member.role, None, member.added_by_user_id
        )


class Members:
    def __init__(
        self,
        store: MemberStore,
        changes: ChangeStore,
        writes: MemberChanges,
        companies: Companies,
        users: Users,
        cursors: CursorCodec,
    ) -> None:
        self.store = store
        self.changes = changes
        self.writes = writes
        self.companies = companies
        self.users = users
        self.cursors = cursors

    async def acting_member(self, company_id: str, user_id: str) -> Member:
        """The caller's own membership, read again (the check that let the
        request in may be a few seconds old)."""
        member = await self.store.member(company_id, user_id)
        if member is None:
            raise CompanyNotFound()
        return member

    async def target(self, company_id: str, user_id: str) -> Member:
        member = await self.store.member(company_id, user_id)
        if member is None:
            raise MemberNotFound()
        return member

    async def page(
        self, company_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Listed], str | None]:
        """The company's members with their email and name (auth's)."""
        scope = f"members:{company_id}"
        found, last = await self.store.page(company_id, limit, self.cursors.decode(cursor, scope))
        users = await self.accounts([m.user_id for m in found])
        listed = [Listed(m, users.get(m.user_id)) for m in found]
        return listed, self.cursors.encode(last, scope)

    async def accounts(self, user_ids: Sequence[str]) -> dict[str, UserRecord]:
        found = await asyncio.gather(*(self.users.user(u) for u in user_ids))
        return {user.id: user for user in found if user is not None}

    async def change_role(
        self,
        company_id: str,
        actor_user_id: str,
        user_id: str,
        role: CompanyRole,
        expected_version: int,
        uow: UnitOfWork,
    ) -> Member:
        """Set a member's role (optimistic locking with ``expected_version``);
        the same role again changes nothing."""
        company = await self.companies.get(company_id)
        actor = await self.acting_member(company_id, actor_user_id)
        target = await self.target(company_id, user_id)
        if target.version != expected_version:
            raise StaleVersion(f"The member is at version {target.version}, not {expected_version}")
        if target.role == role:
            return target
        everyone = await self.store.of_company(company_id)
        check_role_change(actor, target, role, everyone)
        changed = replace(target, role=role, updated_at=now_iso(), version=target.version + 1)
        self.store.replace(uow, changed, expected_version=target.version)
        if target.role == CompanyRole.OWNER:
            self._another_owner_stays(uow, target, everyone)
        self.writes.record(uow, company, "role-changed", user_id, role, target.role, actor_user_id)
        return changed

    async def remove(
        self, company_id: str, actor_user_id: str, user_id: str, uow: UnitOfWork
    ) -> None:
        """Remove a member, or leave (``user_id`` is the actor's own)."""
        company = await self.companies.get(company_id)
        actor = await self.acting_member(company_id, actor_user_id)
        target = await self.target(company_id, user_id)
        everyone = await self.store.of_company(company_id)
        check_removal(actor, target, everyone)
        self.store.remove(uow, target)
        if target.role == CompanyRole.OWNER:
            self._another_owner_stays(uow, target, everyone)
        self.writes.record(uow, company, "removed", user_id, None, target.role, actor_user_id)

    def _another_owner_stays(
        self, uow: UnitOfWork, leaving: Member, everyone: Sequence[Member]
    ) -> None:
        other = next(
            m for m in everyone if m.role == CompanyRole.OWNER and m.user_id != leaving.user_id
        )
        self.store.still_owner(uow, other)

    async def memberships(self, user_id: str) -> list[Membership]:
        """The user's companies, with their role in each."""
        found = await self.store.of_user(user_id)
        companies = await asyncio.gather(
            *(self.companies.store.company(m.company_id) for m in found)
        )
        return [
            Membership(member, company)
            for member, company in zip(found, companies, strict=True)
            if company is not None
        ]

    async def history(
        self, company_id: str, limit: int, cursor: str | None
    ) -> tuple[list[MemberChange], str | None]:
        """The audited changes, newest first."""
        scope = f"member-changes:{company_id}"
        items, last = await self.changes.page(company_id, limit, self.cursors.decode(cursor, scope))
        return items, self.cursors.encode(last, scope)


@dataclass(frozen=True)
class Backfilled:
    scanned: int
    added: int
    next_cursor: str | None


class Backfill:
    """Companies registered before teams existed get their registering
    account as owner: idempotent (each write is conditional on the member
    being absent), one page of companies per call."""

    def __init__(
        self,
        new_uow: Callable[[], UnitOfWork],
        companies: Companies,
        store: MemberStore,
        writes: MemberChanges,
        cursors: CursorCodec,
    ) -> None:
        self.new_uow = new_uow
        self.companies = companies
        self.store = store
        self.writes = writes
        self.cursors = cursors

    async def page(self, limit: int, cursor: str | None) -> Backfilled:
        scope = "backfill-members"
        found, last = await self.companies.store.page(
            None, limit, self.cursors.decode(cursor, scope)
        )
        added = 0
        for company in found:
            # Any member at all means the company has its team already (the
            # registering account may since have left or been removed: it must
            # not come back as an owner).
            if await self.store.of_company(company.id):
                continue
            owner = Member(
                company.id,
                company.owner_user_id,
                CompanyRole.OWNER,
                company.created_at,
                company.owner_user_id,
            )
            uow = self.new_uow()
            self.writes.add(uow, company, owner, on_conflict=ConditionFailed())
            try:
                await uow.commit()
            except ConditionFailed:
                continue  # a concurrent run (or registration) wrote it first
            log.info("members.backfilled", company_id=company.id)
            added += 1
        return Backfilled(len(found), added, self.cursors.encode(last, scope))
