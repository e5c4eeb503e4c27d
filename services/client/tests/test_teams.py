"""The team rules on their own (pure): who may re-role or remove whom."""

from __future__ import annotations

import pytest

from mindlinks_client.domain import Member
from mindlinks_client.teams import (
    LastOwner,
    OwnerRoleReserved,
    OwnRoleNotRaised,
    check_grant,
    check_removal,
    check_role_change,
)
from mindlinks_fleet.teams import CompanyRole, CompanyRoleNotAllowed

OWNER, ADMIN, MANAGER, FINANCE, VIEWER = CompanyRole


def member(user_id: str, role: CompanyRole) -> Member:
    return Member("c1", user_id, role, "2026-01-01T00:00:00Z", "u0")


def test_nobody_raises_their_own_role_but_may_lower_it() -> None:
    admin = member("a", ADMIN)
    team = [member("o", OWNER), admin]
    with pytest.raises(OwnRoleNotRaised):
        check_role_change(admin, admin, OWNER, team)
    check_role_change(admin, admin, VIEWER, team)


def test_only_an_owner_grants_or_takes_owner() -> None:
    owner, admin, viewer = member("o", OWNER), member("a", ADMIN), member("v", VIEWER)
    team = [owner, admin, viewer]
    with pytest.raises(OwnerRoleReserved):
        check_role_change(admin, viewer, OWNER, team)
    with pytest.raises(OwnerRoleReserved):
        check_role_change(admin, owner, ADMIN, team)
    with pytest.raises(OwnerRoleReserved):
        check_grant(ADMIN, OWNER)
    check_grant(OWNER, OWNER)
    check_role_change(owner, viewer, OWNER, team)


def test_the_last_owner_stays() -> None:
    owner = member("o", OWNER)
    with pytest.raises(LastOwner):
        check_role_change(owner, owner, ADMIN, [owner])
    with pytest.raises(LastOwner):
        check_removal(owner, owner, [owner])
    second = member("p", OWNER)
    check_role_change(owner, owner, ADMIN, [owner, second])
    check_removal(owner, owner, [owner, second])


@pytest.mark.parametrize("role", [MANAGER, FINANCE, VIEWER])
def test_managing_needs_members_manage_but_anyone_may_leave(role: CompanyRole) -> None:
    actor, other = member("x", role), member("v", VIEWER)
    team = [member("o", OWNER), actor, other]
    with pytest.raises(CompanyRoleNotAllowed):
        check_removal(actor, other, team)
    with pytest.raises(CompanyRoleNotAllowed):
        check_role_change(actor, other, VIEWER, team)
    check_removal(actor, actor, team)


def test_an_admin_removes_anyone_but_an_owner() -> None:
    owner, admin, viewer = member("o", OWNER), member("a", ADMIN), member("v", VIEWER)
    team = [owner, admin, viewer]
    check_removal(admin, viewer, team)
    with pytest.raises(OwnerRoleReserved):
        check_removal(admin, owner, team)
