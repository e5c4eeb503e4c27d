"""Sessions and step-up through the public edge, with the fleet's real
processes and background workers: ending a session reaches every service
within seconds (``session.ended``, measured as the suspension is in
test_operations), and admin routes need a sign-in with a second factor."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from mindlinks_dev import totp
from mindlinks_fleet import FLEET

PASSWORD = "a long and unusual passphrase 42"
ADMIN_PASSWORD = "Operator-Console-7-Lantern"
PROPAGATION_SECONDS = 15.0
"""Far below the access token's 15-minute lifetime: revocation, not expiry."""
CLI = Path(sys.executable).parent / "mindlinks-ops"
NOWHERE = "00000000-0000-4000-8000-000000000000"
log = logging.getLogger(__name__)

AUTHENTICATED_GETS = {
    "auth": "/v1/auth/me",
    "user": "/v1/users/me",
    "client": "/v1/clients/me",
    "contractor": "/v1/contractors/me",
    "kyc": "/v1/kyc/me",
    "contract": "/v1/contracts",
    "signature": f"/v1/signatures/contracts/{NOWHERE}",
    "ledger": "/v1/ledger/digest",
    "payment": "/v1/payments/transactions",
    "notification": "/v1/notifications/me",
    "admin": "/v1/admin/users",
}
"""One public route per service that needs a user's access token."""


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def revoked(response: httpx.Response) -> bool:
    return (
        response.status_code == 401
        and response.headers["content-type"] == "application/problem+json"
        and response.json().get("reason") == "revoked"
    )


def eventually(probe: Any, done: Any, seconds: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        response: httpx.Response = probe()
        if done(response) or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def register_client(edge: httpx.Client) -> str:
    """Register and verify through the local mailbox: the new user's email."""
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    registered = edge.post(
        "/v1/auth/register",
        json={"email": email, "password": PASSWORD, "name": "Ada Byron", "role": "client"},
    )
    assert registered.status_code == 202, registered.text
    mail = eventually(
        lambda: edge.get("/v1/notifications/dev/mailbox", params={"to": email}),
        lambda r: (
            r.status_code == 200
            and any(m["template"] == "auth.verify-email" for m in r.json()["items"])
        ),
    )
    verification = [m for m in mail.json()["items"] if m["template"] == "auth.verify-email"]
    assert verification, "the verification mail did not arrive"
    verified = edge.post("/v1/auth/verify-email", json={"token": verification[0]["data"]["token"]})
    assert verified.status_code == 200, verified.text
    return email


def login(edge: httpx.Client, email: str, password: str, code: str | None = None) -> Any:
    body = {"email": email, "password": password} | ({"mfaCode": code} if code else {})
    response = edge.post("/v1/auth/login", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_after_logout_every_service_refuses_the_token_in_seconds(edge: httpx.Client) -> None:
    email = register_client(edge)
    tokens = login(edge, email, PASSWORD)
    other_device = login(edge, email, PASSWORD)
    user = bearer(tokens["accessToken"])
    assert set(AUTHENTICATED_GETS) == {s.name for s in FLEET.services}
    before = {
        name: edge.get(path, headers=user).status_code for name, path in AUTHENTICATED_GETS.items()
    }
    assert 401 not in before.values(), f"the live token is not accepted everywhere: {before}"

    started = time.monotonic()
    logout = edge.post(
        "/v1/auth/logout", json={"refreshToken": tokens["refreshToken"]}, headers=user
    )
    assert logout.status_code == 204, logout.text

    # The access token has ~15 minutes left; every service refuses it once
    # ``session.ended`` has reached its queue and its revocations.
    refused_after: dict[str, float] = {}
    last: dict[str, httpx.Response] = {}
    deadline = started + PROPAGATION_SECONDS
    while len(refused_after) < len(AUTHENTICATED_GETS) and time.monotonic() < deadline:
        for name, path in AUTHENTICATED_GETS.items():
            if name in refused_after:
                continue
            last[name] = edge.get(path, headers=user)
            if revoked(last[name]):
                refused_after[name] = time.monotonic() - started
        time.sleep(0.1)
    took = max(refused_after.values(), default=float("nan"))
    timings = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in sorted(refused_after.items()))
    still = {
        name: (r.status_code, r.text[:200]) for name, r in last.items() if name not in refused_after
    }
    assert not still, (
        f"after {PROPAGATION_SECONDS:.0f}s still not refused as revoked: {still}; "
        f"refused: {timings}"
    )
    log.info("logout refused fleet-wide after %.2fs (%s)", took, timings)
    assert took < PROPAGATION_SECONDS, f"took {took:.2f}s ({timings})"

    # The non-auth service a dashboard calls first, once more; and the user's
    # other session (another device) goes on.
    me = edge.get("/v1/users/me", headers=user)
    assert revoked(me), me.text
    assert edge.get("/v1/users/me", headers=bearer(other_device["accessToken"])).status_code == 200


@pytest.fixture(scope="module")
def admin(fleet_run_dir: Path) -> dict[str, str]:
    """An admin as an operator makes one: ``create-admin`` against the running
    fleet; the TOTP key comes back once, in the answer."""
    email = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDLINKS_")}
    created = subprocess.run(
        [
            str(CLI),
            "create-admin",
            "--state",
            str(fleet_run_dir / "state.json"),
            "--email",
            email,
            "--name",
            "Grace Hopper",
            "--password-stdin",
            "--json",
        ],
        input=ADMIN_PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    account = json.loads(created.stdout)
    assert account["role"] == "admin"
    return {"email": email, "secret": account["mfa"]["secret"]}


def test_admin_routes_need_a_sign_in_with_a_second_factor(
    edge: httpx.Client, admin: dict[str, str]
) -> None:
    email, secret = admin["email"], admin["secret"]
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
