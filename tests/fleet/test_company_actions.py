"""Company data is authorized by company role everywhere: every public route
of a client-facing service (the tenancy's owner and every service that looks
memberships up) that lets a ``client`` account in names the action it does
(``acting(action)``), so the permission table in ``mindlinks_fleet.teams`` is
the whole story of who in a company may call it. A route added with a bare
``roles("client")`` or ``CurrentUser`` fails here."""

from __future__ import annotations

from mindlinks_dev.catalog import PublicRoute, public_routes
from mindlinks_fleet import FLEET

TENANCY = FLEET.tenancy
assert TENANCY is not None
CLIENT_FACING = {TENANCY.owner, *TENANCY.lookup.callers}
WITHOUT_A_COMPANY = {
    ("POST", "/v1/clients/register"): "an account registers its own company",
    ("POST", "/v1/clients/member-invitations/accept"): "it joins a company, by invitation",
    ("GET", "/v1/clients/memberships"): "the account's companies, before choosing one",
    # Notification looks memberships up for its webhooks (issue 16); a user's
    # own in-app notifications are theirs, not a company's.
    ("GET", "/v1/notifications/me"): "the account's own in-app notifications",
    ("POST", "/v1/notifications/{notification_id}/read"): "one of the account's own",
}
"""Routes a client account calls for no company (the spec's exceptions)."""


def lets_a_member_in(route: PublicRoute) -> bool:
    if route.who == "signed in":
        return True
    return TENANCY is not None and TENANCY.account_role in route.who.split(" or ")


def test_every_client_facing_route_a_client_gets_into_names_its_company_action() -> None:
    routes = [r for r in public_routes(FLEET) if r.service in CLIENT_FACING]
    assert {r.service for r in routes} >= {"contract", "payment", "signature", "contractor"}
    unnamed = [
        f"{r.service} {r.method} {r.path} ({r.who})"
        for r in routes
        if lets_a_member_in(r) and r.action is None and (r.method, r.path) not in WITHOUT_A_COMPANY
    ]
    assert unnamed == [], "name the company action with acting(action) / acting_or(...)"


def test_the_api_map_prints_each_actions_roles_from_the_table() -> None:
    acting = [r for r in public_routes(FLEET) if r.action is not None]
    assert acting
    for route in acting:
        assert route.company_roles == tuple(TENANCY.permissions[route.action])
    sign = next(r for r in acting if r.path.endswith("/sign"))
    assert (sign.action, sign.company_roles) == ("contracts.sign", ("owner", "admin"))
