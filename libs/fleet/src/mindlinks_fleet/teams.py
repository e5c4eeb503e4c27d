"""Company teams: who may do what for a company, declared once.

A company has members; each is a platform account (role ``client``) with one
role in that company. Every client-side route names one action below, and the
kit's ``acting(action)`` checks the caller's membership against this table, so
the table is the whole authorization story for company data — the README's
API map prints it per route. Membership is read from the client service (its
``members`` table) and cached briefly by each service; a removal or role
change is a revocation event for the ``member`` claim, which every service
applies within seconds (``mindlinks_kit.revocations``), so a removed member is
refused at once without carrying memberships in the token. Joining is not:
a company missing from a cached answer is asked again (ADR 0010)."""

from __future__ import annotations

from enum import StrEnum

from mindlinks_kit.errors import Conflict, Forbidden, InvalidInput, NotFound


class CompanyRole(StrEnum):
    """Most powerful first."""

    OWNER = "owner"
    ADMIN = "admin"
    MANAGER = "manager"
    FINANCE = "finance"
    VIEWER = "viewer"


EVERYONE = tuple(CompanyRole)
OWNER, ADMIN, MANAGER, FINANCE, VIEWER = EVERYONE

PERMISSIONS: dict[str, tuple[CompanyRole, ...]] = {
    "company.read": EVERYONE,
    "company.update": (OWNER, ADMIN),
    "members.read": EVERYONE,
    "members.manage": (OWNER, ADMIN),
    "contractors.read": EVERYONE,
    "contractors.invite": (OWNER, ADMIN, MANAGER),
    "contracts.read": EVERYONE,
    "contracts.draft": (OWNER, ADMIN, MANAGER),
    "contracts.sign": (OWNER, ADMIN),
    "payments.read": EVERYONE,
    "payments.move": (OWNER, ADMIN, FINANCE),
    "webhooks.manage": (OWNER, ADMIN),
}
"""Action → the company roles allowed to do it. ``contracts.draft`` covers
drafting, templates, sending for signature, voiding and terminating; ``payments.move``
funding, approving and releasing; ``webhooks.manage`` the company's outbound
webhook endpoints, their secrets, delivery logs and replays."""

ACCOUNT_ROLE = "client"
"""The platform role of every member's account."""
COMPANY_HEADER = "X-Company-Id"
"""Names the company a client-side request acts for. Needed only by an account
that belongs to several companies; with one membership it may be left out."""
MEMBER_CLAIM = "member"
"""The revocation claim of removals and role changes. No token carries it, so no
token is refused: it tells every service to forget its cached memberships of
that user."""


class CompanyRequired(Conflict):
    code = "company-required"
    title = "Register your company or accept a team invitation first"


class CompanyHeaderRequired(InvalidInput):
    status = 400
    code = "company-header-required"
    title = f"You belong to several companies: say which one in {COMPANY_HEADER}"


class CompanyNotFound(NotFound):
    """A company the caller is not a member of answers as an unknown one."""

    code = "company-not-found"
    title = "Company not found"


class CompanyRoleNotAllowed(Forbidden):
    code = "company-role-not-allowed"
    title = "Your role in this company does not allow this"
