"""The client service's internal API: companies for their peers and the
operator (listing, review, revocation) and invitations redeemed by the
contractor service."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from mindlinks_fleet.events import CompanyStatus
from mindlinks_fleet.teams import CompanyRole
from mindlinks_kit.address import AddressOut
from mindlinks_kit.declaration import Call, Lookup
from mindlinks_kit.errors import Conflict, Forbidden, NotFound, Problem
from mindlinks_kit.schemas import MULTI_LINE, ONE_LINE, ApiModel, Id, Page

Hold = Literal[
    "registry-unreachable", "name-mismatch", "officer-not-matched", "number-already-registered"
]
"""Why a company is held for an admin's review (one or more)."""
AuthorityCheck = Literal["matched", "not-matched", "no-officer-list", "not-checked"]
Decision = Literal["approved", "rejected"]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE
]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), MULTI_LINE
]


class RegistryOut(ApiModel):
    checked_at: str
    reachable: bool
    """False: the registry could not be asked; an admin reviews the company."""
    name: str | None
    status: str | None
    registered_address: str | None


class CompanyRecord(ApiModel):
    """What peers may know about a company."""

    id: str
    legal_name: str
    trading_name: str | None
    status: CompanyStatus
    owner_user_id: str
    jurisdiction_code: str
    company_number: str
    name_mismatch: bool
    address: AddressOut | None = None
    """The registered address given at registration (on invoices)."""


class ReviewOut(ApiModel):
    decision: Decision
    reason: str | None
    decided_by: str
    decided_at: str


class AuthorityOut(ApiModel):
    check: AuthorityCheck
    """``matched`` (the account's name is a current officer's), ``not-matched``,
    ``no-officer-list`` (the registry lists none), ``not-checked`` (it could
    not be asked)."""
    officer: str | None
    position: str | None


class CompanyAdminRecord(CompanyRecord):
    """A company as operators see it: what the registry said, why it was held
    and how it was reviewed."""

    registry: RegistryOut
    hold_reasons: list[Hold]
    authority: AuthorityOut
    conflicts_with: str | None
    """The active company that held the registry number when this one claimed it."""
    review: ReviewOut | None
    created_at: str


class ReviewCompany(ApiModel):
    decision: Decision
    reason: Reason | None = None
    """Required for a rejection: the owner is told why."""
    decided_by: Id
    """The admin's user id."""

    @model_validator(mode="after")
    def _rejection_has_a_reason(self) -> ReviewCompany:
        if self.decision == "rejected" and self.reason is None:
            raise ValueError("a rejection needs a reason")
        return self


class RevokeCompany(ApiModel):
    reason: Reason
    """The owner is told why."""
    decided_by: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class RedeemInvitation(ApiModel):
    token: Annotated[str, StringConstraints(min_length=16, max_length=256)]
    contractor_id: Id
    user_id: Id
    email: Annotated[str, StringConstraints(min_length=3, max_length=320)]
    name: Name | None = None
    """The contractor's name, shown in the client's contractor list."""


class Redeemed(ApiModel):
    invitation_id: str
    company_id: str
    company_name: str
    invited_by_user_id: str
    accepted_at: str
    replayed: bool = False
    """True: this contractor had already redeemed it; nothing changed."""


class InvitationNotFound(NotFound):
    code = "invitation-not-found"
    title = "No such invitation"


class InvitationAccepted(Conflict):
    code = "invitation-already-accepted"
    title = "The invitation was already accepted"


class InvitationUsed(Conflict):
    code = "invitation-used"
    title = "The invitation was already used"


class InvitationRevoked(Conflict):
    code = "invitation-revoked"
    title = "The invitation was revoked"


class InvitationExpired(Problem):
    status = 410
    code = "invitation-expired"
    title = "The invitation has expired"


class EmailMismatch(Forbidden):
    code = "invitation-email-mismatch"
    title = "The invitation was sent to another email address"


class CompanyNotActive(Conflict):
    code = "company-not-active"
    title = "The company is not active (yet)"


COMPANIES = Call(
    "client",
    "GET",
    "/internal/clients/companies",
    Page[CompanyAdminRecord],
    callers=("admin",),
    summary="Companies: of one status newest first, or all.",
)
REVIEW = Call(
    "client",
    "POST",
    "/internal/clients/companies/{company_id}/review",
    CompanyAdminRecord,
    callers=("admin",),
    body=ReviewCompany,
    summary="An admin's decision on a company held for review.",
)
REVOKE = Call(
    "client",
    "POST",
    "/internal/clients/companies/{company_id}/revoke",
    CompanyAdminRecord,
    callers=("admin",),
    body=RevokeCompany,
    summary="Take an active company out of service and free its registry number.",
)
COMPANY_BY_OWNER = Lookup(
    "client",
    "GET",
    "/internal/clients/companies/by-owner/{user_id}",
    CompanyRecord,
    callers=("admin",),
    summary="The company a user owns.",
)
COMPANY = Lookup(
    "client",
    "GET",
    "/internal/clients/companies/{company_id}",
    CompanyRecord,
    callers=("admin", "contract", "payment"),
    summary="What a peer may know about one company.",
)
REDEEM_INVITATION = Call(
    "client",
    "POST",
    "/internal/clients/invitations/redeem",
    Redeemed,
    callers=("contractor",),
    body=RedeemInvitation,
    refusals=(
        InvitationNotFound,
        InvitationAccepted,
        InvitationUsed,
        InvitationRevoked,
        InvitationExpired,
        EmailMismatch,
        CompanyNotActive,
    ),
    summary="Redeem an invitation token for a contractor, once (a repeat replays).",
)


class MemberRecord(ApiModel):
    company_id: str
    role: CompanyRole


class Memberships(ApiModel):
    """Every company a user is a member of, with their role there."""

    items: list[MemberRecord]

    def memberships(self) -> list[tuple[str, str]]:
        return [(m.company_id, m.role.value) for m in self.items]


MEMBERSHIPS = Call(
    "client",
    "GET",
    "/internal/clients/members/{user_id}",
    Memberships,
    callers=("admin", "contract", "contractor", "notification", "payment", "signature"),
    summary="The companies a user is a member of, and their role in each (empty: none).",
)


class BackfillMembers(ApiModel):
    limit: Annotated[int, Field(ge=1, le=100)] = 50
    cursor: Annotated[str, StringConstraints(max_length=2048)] | None = None


class MembersBackfilled(ApiModel):
    scanned: int
    """Companies read in this page."""
    added: int
    """Owners written (the companies that had none)."""
    next_cursor: str | None
    """``None``: every company was read."""


BACKFILL_MEMBERS = Call(
    "client",
    "POST",
    "/internal/clients/members/backfill",
    MembersBackfilled,
    callers=("admin",),
    body=BackfillMembers,
    summary="Give one page of companies registered before teams their owner member (idempotent).",
)


class CompanyMember(ApiModel):
    user_id: str
    role: CompanyRole


class CompanyMembers(ApiModel):
    """A company's members and their roles (empty: an unknown company)."""

    items: list[CompanyMember]


COMPANY_MEMBERS = Call(
    "client",
    "GET",
    "/internal/clients/companies/{company_id}/members",
    CompanyMembers,
    callers=("notification",),
    summary="A company's members and their roles: whom a company-wide notice goes to.",
)

ROUTES = (
    COMPANIES,
    REVIEW,
    REVOKE,
    COMPANY_BY_OWNER,
    COMPANY,
    REDEEM_INVITATION,
    MEMBERSHIPS,
    BACKFILL_MEMBERS,
    COMPANY_MEMBERS,
)
