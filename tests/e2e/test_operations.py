"""Operating the platform as an operator does: the first admin comes from the
operator CLI (auth's own code against the fleet's AWS and Redis), everything
else goes through the public edge or the CLI's audited admin API — with the
fleet's background workers on, so a suspension reaches every service by the
``user.suspended`` event alone."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mindlinks_dev import totp
from mindlinks_fleet import FLEET

ADMIN_PASSWORD = "Operator-Console-7-Lantern"
CLIENT_PASSWORD = "a long and unusual passphrase 42"
SUSPEND_REASON = "chargeback fraud reported by the card issuer"
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


@dataclass(frozen=True)
class Admin:
    id: str
    email: str
    headers: dict[str, str]
    secret: str
    """The TOTP key ``create-admin`` gave back once."""


def ops(
    *argv: str, stdin: str = "", env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``mindlinks-ops`` as an operator's shell runs it: the venv's console
    script, none of this test process's ``MINDLINKS_*`` settings."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MINDLINKS_")}
    return subprocess.run(
        [str(CLI), *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=120,
        check=False,
    )


def eventually(probe: Any, done: Any, seconds: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        response: httpx.Response = probe()
        if done(response) or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def revoked(response: httpx.Response) -> bool:
    return (
        response.status_code == 401
        and response.headers["content-type"] == "application/problem+json"
        and response.json().get("reason") == "revoked"
    )


@pytest.fixture(scope="module")
def admin(edge: httpx.Client, fleet_run_dir: Path) -> Admin:
    """The first admin, made by ``create-admin --state`` against the running
    fleet (with TOTP on: its key comes back once), then signed in through the
    edge like anyone else, with a one-time code."""
    email = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    created = ops(
        "create-admin",
        "--state",
        str(fleet_run_dir / "state.json"),
        "--email",
        email,
        "--name",
        "Grace Hopper",
        "--password-stdin",
        "--json",
        stdin=ADMIN_PASSWORD + "\n",
    )
    assert created.returncode == 0, created.stderr
    account = json.loads(created.stdout)
    secret = account.pop("mfa")["secret"]
    assert account == {"id": account["id"], "email": email, "name": "Grace Hopper", "role": "admin"}

    login = edge.post(
        "/v1/auth/login",
        json={"email": email, "password": ADMIN_PASSWORD, "mfaCode": totp.code(secret)},
    )
    assert login.status_code == 200, login.text
    headers = {"authorization": f"Bearer {login.json()['accessToken']}"}
    me = edge.get("/v1/auth/me", headers=headers).json()
    assert (me["id"], me["role"], me["emailVerified"]) == (account["id"], "admin", True)
    assert me["mfaEnabled"] is True
    return Admin(account["id"], email, headers, secret)


def register_client(edge: httpx.Client) -> tuple[str, dict[str, Any]]:
    """Register, read the verification mail from the local mailbox, verify,
    log in: the user's id and tokens."""
    email = f"grace-{uuid.uuid4().hex[:8]}@example.com"
    registered = edge.post(
        "/v1/auth/register",
        json={"email": email, "password": CLIENT_PASSWORD, "name": "Ada Byron", "role": "client"},
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
    login = edge.post("/v1/auth/login", json={"email": email, "password": CLIENT_PASSWORD})
    assert login.status_code == 200, login.text
    bearer = {"authorization": f"Bearer {login.json()['accessToken']}"}
    me = edge.get("/v1/auth/me", headers=bearer)
    assert me.status_code == 200, me.text
    return me.json()["id"], login.json() | {"email": email}


def test_a_suspension_reaches_every_service_in_seconds(edge: httpx.Client, admin: Admin) -> None:
    user_id, tokens = register_client(edge)
    user = {"authorization": f"Bearer {tokens['accessToken']}"}
    assert set(AUTHENTICATED_GETS) == {s.name for s in FLEET.services}
    before = {
        name: edge.get(path, headers=user).status_code for name, path in AUTHENTICATED_GETS.items()
    }
    assert 401 not in before.values(), f"the live token is not accepted everywhere: {before}"

    started = time.monotonic()
    suspended = edge.post(
        f"/v1/admin/users/{user_id}/suspend", json={"reason": SUSPEND_REASON}, headers=admin.headers
    )
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["status"] == "suspended"

    # Sessions end with the suspension itself.
    refresh = edge.post("/v1/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    assert refresh.status_code == 401, refresh.text

    # The access token has ~15 minutes left; every service refuses it once the
    # ``user.suspended`` event has reached its queue and its revocations.
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
    # And it stays refused (every service, one more round).
    again = {name: edge.get(path, headers=user) for name, path in AUTHENTICATED_GETS.items()}
    assert all(revoked(r) for r in again.values()), {n: r.status_code for n, r in again.items()}
    log.info("suspension refused fleet-wide after %.2fs (%s)", took, timings)
    assert took < PROPAGATION_SECONDS, f"took {took:.2f}s ({timings})"

    # Nor can the user sign in again.
    login = edge.post(
        "/v1/auth/login", json={"email": tokens["email"], "password": CLIENT_PASSWORD}
    )
    assert (login.status_code, login.json()["code"]) == (403, "account-suspended")

    trail = edge.get("/v1/admin/audit", params={"target": f"user:{user_id}"}, headers=admin.headers)
    assert trail.status_code == 200, trail.text
    records = [r for r in trail.json()["items"] if r["action"] == "user.suspend"]
    phases = {r["phase"]: r for r in records}
    assert sorted(phases) == ["requested", "succeeded"], records
    requested, succeeded = phases["requested"], phases["succeeded"]
    assert requested["actionId"] == succeeded["actionId"]
    for record in (requested, succeeded):
        assert record["actorUserId"] == admin.id
        assert record["reason"] == SUSPEND_REASON
        assert record["target"] == f"user:{user_id}"
    assert requested["before"]["status"] == "active"
    assert succeeded["after"]["status"] == "suspended"
    assert requested["id"] < succeeded["id"]  # ids sort by time: requested came first


def test_fleet_status_from_the_operator_cli(edge: httpx.Client, admin: Admin) -> None:
    status = ops(
        "fleet",
        "status",
        "--json",
        "--api",
        str(edge.base_url).rstrip("/"),
        "--email",
        admin.email,
        "--otp",
        totp.code(admin.secret),
        env={"MINDLINKS_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    assert status.returncode == 0, f"{status.stderr}\n{status.stdout[-2000:]}"
    fleet = json.loads(status.stdout)
    assert fleet["partial"] == []
    services = {s["service"]: s for s in fleet["services"]}
    assert sorted(services) == sorted(s.name for s in FLEET.services)
    assert len(services) == 11
    unwell = {n: s for n, s in services.items() if not (s["live"] and s["ready"])}
    assert not unwell, unwell
