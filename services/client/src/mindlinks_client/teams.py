"""Company teams: what a member invitation and an audited membership change
are, and who may change whose role (the fleet declares the roles and which
action each allows, ``mindlinks_fleet.teams``; these are the rules between
members).

- Nobody raises their own role (``own-role-not-raised``).
- Only an owner grants or takes away ``owner`` (``owner-role-reserved``).
- A company keeps at least one owner: its last one cannot be removed,
  demoted or leave (``last-owner``).
- Any member may leave (remove themself); removing anyone else takes
  ``members.manage``.

Pure: no I/O, no FastAPI; ``service.members`` applies them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from mindlinks_client.domain import Member, parse_iso
from mindlinks_fleet.teams import PERMISSIONS, CompanyRole, CompanyRoleNotAllowed
from mindlinks_kit.errors import Conflict, Forbidden, NotFound

RANK = {role: rank for rank, role in enumerate(CompanyRole)}
"""0 is the most powerful (``CompanyRole`` lists them so)."""


class OwnRoleNotRaised(Forbidden):
    code = "own-role-not-raised"
    title = "Nobody can raise their own role"


class OwnerRoleReserved(Forbidden):
    code = "owner-role-reserved"
    title = "Only an owner can grant or take away the owner role"


class LastOwner(Conflict):
    code = "last-owner"
    title = "A company keeps at least one owner: make someone else owner first"


class MemberNotFound(NotFound):
    code = "member-not-found"
    title = "No such member of this company"


class MemberInvitationNotFound(NotFound):
    code = "member-invitation-not-found"
    title = "No such member invitation"


class MemberInvitationPending(Conflict):
    code = "member-invitation-pending"
    title = "This email already has a pending invitation to the company"


ChangeKind = Literal["added", "role-changed", "removed"]
InvitationStatus = Literal["pending", "accepted", "revoked"]
ShownStatus = Literal["pending", "accepted", "revoked", "expired"]


@dataclass(frozen=True)
class MemberInvitation:
    """An invitation to join a company's team in ``role``; its token is kept
    only as its SHA-256 and works once, until ``expires_at``."""

    id: str
    company_id: str
    company_name: str
    email: str
    role: CompanyRole
    token_hash: str
    status: InvitationStatus
    invited_by_user_id: str
    created_at: str
    expires_at: str
    accepted_at: str | None = None
    accepted_by_user_id: str | None = None
    revoked_at: str | None = None
    version: int = 1

    def expired(self, now: datetime | None = None) -> bool:
        return parse_iso(self.expires_at) <= (now or datetime.now(UTC))

    @property
    def shown_status(self) -> ShownStatus:
        if self.status == "pending" and self.expired():
            return "expired"
        return self.status


@dataclass(frozen=True)
class MemberChange:
    """One audited membership change, kept for good (append-only)."""

    company_id: str
    change_id: str
    """ISO time + a random suffix: sorts by time, never collides."""
    change: ChangeKind
    user_id: str
    role: CompanyRole | None
    """The new role; ``None`` once removed."""
    previous_role: CompanyRole | None
    """``None`` when added."""
    actor_user_id: str
    at: str


def may(role: CompanyRole, action: str) -> bool:
    return role in PERMISSIONS[action]


def owners(members: Sequence[Member]) -> int:
    return sum(1 for m in members if m.role == CompanyRole.OWNER)


def check_grant(actor_role: CompanyRole, role: CompanyRole) -> None:
    """An invitation (or a change) to ``role`` by a member in ``actor_role``."""
    if role == CompanyRole.OWNER and actor_role != CompanyRole.OWNER:
        raise OwnerRoleReserved()


def check_manage(actor: Member) -> None:
    """``members.manage``, checked again on the member's role as stored (the
    route's check may have used a membership cached a few seconds)."""
    if not may(actor.role, "members.manage"):
        allowed = " or ".join(PERMISSIONS["members.manage"])
        raise CompanyRoleNotAllowed(
            f"members.manage needs the role {allowed}; yours is {actor.role}"
        )


def check_role_change(
    actor: Member, target: Member, role: CompanyRole, members: Sequence[Member]
) -> None:
    """``actor`` sets ``target``'s role to ``role``."""
    check_manage(actor)
    if actor.user_id == target.user_id and RANK[role] < RANK[target.role]:
        raise OwnRoleNotRaised()
    check_grant(actor.role, role)
    if target.role == CompanyRole.OWNER and role != CompanyRole.OWNER:
        if actor.role != CompanyRole.OWNER:
            raise OwnerRoleReserved()
        if owners(members) <= 1:
            raise LastOwner()


def check_removal(actor: Member, target: Member, members: Sequence[Member]) -> None:
    """``actor`` removes ``target`` (themself: leaving)."""
    if actor.user_id != target.user_id:
        check_manage(actor)
        if target.role == CompanyRole.OWNER and actor.role != CompanyRole.OWNER:
            raise OwnerRoleReserved()
    if target.role == CompanyRole.OWNER and owners(members) <= 1:
        raise LastOwner()
