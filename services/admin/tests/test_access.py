"""Only admins: every route of the admin API, enumerated from the app itself
(so a new route cannot slip through), refuses other roles and anonymous
callers; and nothing can alter the audit trail."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING

import pytest
from fastapi.routing import APIRoute

from mindlinks_admin.app import create
from mindlinks_admin.store import AuditStore
from mindlinks_dev.catalog import api_routes, who

if TYPE_CHECKING:
    from conftest import Desk

PREFIX = "/v1/admin"


def admin_routes() -> list[tuple[str, str]]:
    routes: list[APIRoute] = [r for r in api_routes(create().routes) if r.path.startswith(PREFIX)]
    return sorted(
        (method, route.path) for route in routes for method in (route.methods or set()) - {"HEAD"}
    )


ROUTES = admin_routes()


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


def test_the_api_has_the_documented_routes() -> None:
    assert len(ROUTES) == 30
    assert ("GET", "/v1/admin/fleet") in ROUTES
    assert ("GET", "/v1/admin/audit") in ROUTES


def test_every_route_is_for_admins_only() -> None:
    app = create()
    for route in api_routes(app.routes):
        if route.path.startswith(PREFIX):
            assert who(route) == "admin", route.path


def test_nothing_alters_the_audit_trail() -> None:
    """No route changes or removes a record, and the store cannot either."""
    assert all(method in {"GET", "POST"} for method, _ in ROUTES)
    assert not [p for m, p in ROUTES if m == "POST" and p.startswith(f"{PREFIX}/audit")]
    methods = {name for name in dir(AuditStore) if not name.startswith("__")}
    assert not {m for m in methods if re.search(r"update|delete|remove|replace|edit", m)}
    assert methods >= {"append", "newest", "first_day"}


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_other_roles_get_403_and_anonymous_401(desk: Desk, method: str, path: str) -> None:
    admin = desk.fleet.client("admin")
    url = concrete(path)
    body = {"reason": "a valid reason", "service": "kyc", "messageIds": ["m-1"]}
    for role in ("client", "contractor"):
        headers = desk.fleet.bearer(uuid.uuid4().hex, role)
        response = await admin.request(
            method, url, headers=headers, json=body if method == "POST" else None
        )
        desk.problem(response, 403, "forbidden")
    # An admin signed in with a password alone must sign in again with MFA.
    password_only = desk.fleet.access_token(uuid.uuid4().hex, "admin", amr=("pwd",))
    response = await admin.request(
        method,
        url,
        headers={"authorization": f"Bearer {password_only}"},
        json=body if method == "POST" else None,
    )
    problem = desk.problem(response, 403, "mfa-required")
    assert "second factor" in problem["detail"]
    assert "insufficient_user_authentication" in response.headers["www-authenticate"]
    anonymous = await admin.request(method, url, json=body if method == "POST" else None)
    desk.problem(anonymous, 401, "unauthorized")
    service = await admin.request(method, url, headers=desk.fleet.service_bearer("auth"))
    desk.problem(service, 401)
