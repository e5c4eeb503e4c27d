"""The company and invitation rules and values: what a company, its registry
record and an admin's review are, which fields the owner may edit; what an
invitation is, how its token and address are compared, when it has expired;
the problems the use cases raise. The registry's answer is judged in
``vetting``.

Pure: no I/O, no FastAPI; ``service`` applies them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from mindlinks_client.providers import RegistryCompany
from mindlinks_client.vetting import Authority, Status
from mindlinks_fleet.internal.client import (  # the redeem route's declared refusals
    Decision,
    Hold,
)
from mindlinks_fleet.teams import CompanyRole
from mindlinks_kit.address import Address
from mindlinks_kit.errors import Conflict, NotFound


class CompanyAlreadyRegistered(Conflict):
    code = "company-already-registered"
    title = "This account already has a company"


class NoCompany(NotFound):
    code = "company-not-registered"
    title = "This account has no company yet"


class NotPendingReview(Conflict):
    code = "not-pending-review"
    title = "The company is not held for review"


class NumberTaken(Conflict):
    code = "company-number-taken"
    title = "Another active company holds this registry number"


class InvitationPending(Conflict):
    code = "invitation-pending"
    title = "This email already has a pending invitation from the company"


class AlreadyEngaged(Conflict):
    code = "contractor-already-engaged"
    title = "This contractor already accepted an invitation from the company"


DECIDED: dict[Decision, Status] = {"approved": "active", "rejected": "rejected"}


@dataclass(frozen=True)
class RegistryRecord:
    """What the registry said at registration, kept for the admin's review."""

    checked_at: str
    reachable: bool
    name: str | None = None
    status: str | None = None
    registered_address: str | None = None


@dataclass(frozen=True)
class Review:
    """An admin's decision on a company held for review."""

    decision: Decision
    decided_by: str
    decided_at: str
    reason: str | None = None


@dataclass(frozen=True)
class Company:
    id: str
    owner_user_id: str
    legal_name: str
    jurisdiction_code: str
    company_number: str
    address: Address
    status: Status
    name_mismatch: bool
    registry: RegistryRecord
    created_at: str
    updated_at: str
    trading_name: str | None = None
    review: Review | None = None
    holds: tuple[Hold, ...] = ()
    """Why it was held for review at registration (empty when it was not)."""
    authority: Authority = field(default_factory=lambda: Authority("not-checked"))
    conflicts_with: str | None = None
    """The active company that held the registry number when this one claimed it."""
    version: int = 1

    @property
    def number(self) -> str:
        return f"{self.jurisdiction_code}/{self.company_number}"


@dataclass(frozen=True)
class Member:
    """One account's role in one company. The registering account is the
    company's first ``owner``; a company always keeps at least one owner."""

    company_id: str
    user_id: str
    role: CompanyRole
    added_at: str
    added_by_user_id: str
    updated_at: str | None = None
    version: int = 1


class AlreadyMember(Conflict):
    code = "already-member"
    title = "This account is already a member of the company"


@dataclass(frozen=True)
class Registration:
    legal_name: str
    jurisdiction_code: str
    company_number: str
    address: Address
    trading_name: str | None = None


@dataclass(frozen=True)
class Vetted:
    """What the registry (and auth, for the person's name) said, asked once
    before the registration's transaction, which may be staged twice."""

    found: RegistryCompany | None
    reachable: bool
    authority: Authority


EDITABLE = ("address", "trading_name")


Stored = Literal["pending", "accepted", "revoked"]


Shown = Literal["pending", "accepted", "revoked", "expired"]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def email_key(email: str) -> str:
    """How an address is compared (auth lowercases addresses too)."""
    return email.strip().lower()


def parse_iso(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def iso(at: datetime) -> str:
    return at.isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Invitation:
    id: str
    company_id: str
    company_name: str
    email: str
    name: str | None
    token_hash: str
    status: Stored
    invited_by_user_id: str
    created_at: str
    expires_at: str
    accepted_at: str | None = None
    revoked_at: str | None = None
    contractor_id: str | None = None
    contractor_user_id: str | None = None
    contractor_name: str | None = None
    version: int = 1

    def expired(self, now: datetime | None = None) -> bool:
        return parse_iso(self.expires_at) <= (now or datetime.now(UTC))

    @property
    def shown_status(self) -> Shown:
        if self.status == "pending" and self.expired():
            return "expired"
        return self.status


@dataclass(frozen=True)
class Guard:
    """One per (company, email): who holds the address — a pending invitation
    until it expires, or the accepted one for good."""

    invitation_id: str
    state: Literal["pending", "accepted"]
    expires_epoch: int

    def blocks(self, now: float) -> bool:
        return self.state == "accepted" or self.expires_epoch > now


@dataclass(frozen=True)
class Redemption:
    invitation: Invitation
    replayed: bool


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    token: str
    """The only time the token exists in clear: it goes in the mail, nowhere else."""
