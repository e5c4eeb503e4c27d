"""Operating the platform as an operator does: the first admin comes from the
operator CLI (auth's own code against the fleet's AWS and Redis), everything
else goes through the public edge or the CLI's audited admin API — with the
fleet's background workers on, so a suspension reaches every service by the
``user.suspended`` event alone."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mindlinks_dev import totp
from mindlinks_dev.outside import (
    ADMIN_PASSWORD,
    AUTHENTICATED_GETS,
    PASSWORD,
    Admin,
    accepted_everywhere,
    bearer,
    create_admin,
    login,
    ops,
    refused_everywhere,
    register_person,
    revoked,
    timings,
)
from mindlinks_fleet import FLEET

SUSPEND_REASON = "chargeback fraud reported by the card issuer"
PROPAGATION_SECONDS = 15.0
"""Far below the access token's 15-minute lifetime: revocation, not expiry."""
log = logging.getLogger(__name__)


@pytest.fixture(scope="module")
def admin(edge: httpx.Client, fleet_run_dir: Path) -> Admin:
    admin = create_admin(edge, fleet_run_dir)
    me = edge.get("/v1/auth/me", headers=admin.headers).json()
    assert (me["id"], me["role"], me["emailVerified"]) == (admin.id, "admin", True)
    assert me["mfaEnabled"] is True
    return admin


def register_client(edge: httpx.Client) -> tuple[str, dict[str, Any]]:
    """A verified client, signed in: the user's id and tokens."""
    email = register_person(edge, name="Ada Byron")
    tokens = login(edge, email)
    me = edge.get("/v1/auth/me", headers=bearer(tokens["accessToken"]))
    assert me.status_code == 200, me.text
    return me.json()["id"], tokens | {"email": email}


def test_a_suspension_reaches_every_service_in_seconds(edge: httpx.Client, admin: Admin) -> None:
    user_id, tokens = register_client(edge)
    user = bearer(tokens["accessToken"])
    assert set(AUTHENTICATED_GETS) == {s.name for s in FLEET.services}
    accepted_everywhere(edge, user)

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
    refused_after = refused_everywhere(edge, user, started, PROPAGATION_SECONDS)
    took = max(refused_after.values())
    # And it stays refused (every service, one more round).
    again = {name: edge.get(path, headers=user) for name, path in AUTHENTICATED_GETS.items()}
    assert all(revoked(r) for r in again.values()), {n: r.status_code for n, r in again.items()}
    log.info("suspension refused fleet-wide after %.2fs (%s)", took, timings(refused_after))

    # Nor can the user sign in again.
    relogin = edge.post("/v1/auth/login", json={"email": tokens["email"], "password": PASSWORD})
    assert (relogin.status_code, relogin.json()["code"]) == (403, "account-suspended")

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
