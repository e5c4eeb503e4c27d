"""Sessions and step-up through the public edge, with the fleet's real
processes and background workers: ending a session reaches every service
within seconds (``session.ended``, measured as the suspension is in
test_operations), and admin routes need a sign-in with a second factor."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import httpx
import pyotp
import pytest

from mindlinks_dev import totp
from mindlinks_dev.outside import (
    ADMIN_PASSWORD,
    AUTHENTICATED_GETS,
    Admin,
    accepted_everywhere,
    bearer,
    create_admin,
    login,
    refused_everywhere,
    register_person,
    revoked,
    timings,
)
from mindlinks_fleet import FLEET

PROPAGATION_SECONDS = 15.0
"""Far below the access token's 15-minute lifetime: revocation, not expiry."""
log = logging.getLogger(__name__)


def test_after_logout_every_service_refuses_the_token_in_seconds(edge: httpx.Client) -> None:
    email = register_person(edge)
    tokens = login(edge, email)
    other_device = login(edge, email)
    user = bearer(tokens["accessToken"])
    assert set(AUTHENTICATED_GETS) == {s.name for s in FLEET.services}
    accepted_everywhere(edge, user)

    started = time.monotonic()
    logout = edge.post(
        "/v1/auth/logout", json={"refreshToken": tokens["refreshToken"]}, headers=user
    )
    assert logout.status_code == 204, logout.text

    # The access token has ~15 minutes left; every service refuses it once
    # ``session.ended`` has reached its queue and its revocations.
    refused_after = refused_everywhere(edge, user, started, PROPAGATION_SECONDS)
    took = max(refused_after.values())
    log.info("logout refused fleet-wide after %.2fs (%s)", took, timings(refused_after))

    # The non-auth service a dashboard calls first, once more; and the user's
    # other session (another device) goes on.
    me = edge.get("/v1/users/me", headers=user)
    assert revoked(me), me.text
    assert edge.get("/v1/users/me", headers=bearer(other_device["accessToken"])).status_code == 200


@pytest.fixture(scope="module")
def admin(edge: httpx.Client, fleet_run_dir: Path) -> Admin:
    return create_admin(edge, fleet_run_dir)


def test_admin_routes_need_a_sign_in_with_a_second_factor(edge: httpx.Client, admin: Admin) -> None:
    email, secret = admin.email, admin.secret
    # Created with MFA on: the password alone does not even sign in.
    no_code = edge.post("/v1/auth/login", json={"email": email, "password": ADMIN_PASSWORD})
    assert (no_code.status_code, no_code.json()["code"]) == (401, "mfa-required")
    strong = bearer(login(edge, email, ADMIN_PASSWORD, totp.code(secret))["accessToken"])
    assert edge.get("/v1/admin/users", headers=strong).status_code == 200

    # The admin turns MFA off and signs in with the password alone.
    off = edge.post("/v1/auth/mfa/disable", headers=strong, json={"code": totp.code(secret)})
    assert off.status_code == 204, off.text
    weak = bearer(login(edge, email, ADMIN_PASSWORD)["accessToken"])
    for path in ("/v1/admin/users", "/v1/admin/audit", "/v1/payments/transactions"):
        refused = edge.get(path, headers=weak)
        assert refused.status_code == 403, (path, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert problem["code"] == "mfa-required", problem
        assert problem["type"].endswith("/mfa-required")
        assert "sign in again" in problem["detail"], problem
        assert "insufficient_user_authentication" in refused.headers["www-authenticate"]
    # What such an admin may still do: see the account and turn MFA back on.
    me = edge.get("/v1/auth/me", headers=weak)
    assert (me.status_code, me.json()["mfaEnabled"]) == (200, False)
    setup = edge.post("/v1/auth/mfa/setup", headers=weak)
    assert setup.status_code == 200, setup.text
    new_secret = setup.json()["secret"]
    enable = edge.post(
        "/v1/auth/mfa/enable", headers=weak, json={"code": pyotp.TOTP(new_secret).now()}
    )
    assert enable.status_code == 204, enable.text
    # The password-only session stays what it was; a new sign-in with a code is
    # what the admin routes take.
    assert edge.get("/v1/admin/users", headers=weak).status_code == 403
    again = bearer(
        login(
            edge,
            email,
            ADMIN_PASSWORD,
            pyotp.TOTP(new_secret).at(time.time(), counter_offset=1),
        )["accessToken"]
    )
    assert edge.get("/v1/admin/users", headers=again).status_code == 200
