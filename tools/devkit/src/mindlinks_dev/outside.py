"""What the end-to-end suites do from outside, once: a person registered and
verified through the local mailbox, the first admin made by the operator CLI
(with TOTP on) and signed in with a code, and the probe that times how long a
revoked access token takes to be refused by every service."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mindlinks_dev import totp

# Test accounts on a local fleet only.
PASSWORD = "a long and unusual passphrase 42"  # noqa: S105
ADMIN_PASSWORD = "Operator-Console-7-Lantern"  # noqa: S105
CLI = Path(sys.executable).parent / "mindlinks-ops"
NOWHERE = "00000000-0000-4000-8000-000000000000"

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


def eventually(
    probe: Callable[[], httpx.Response],
    done: Callable[[httpx.Response], bool] = lambda r: r.status_code == 200,
    seconds: float = 30.0,
) -> httpx.Response:
    """Poll until ``done`` (events and mail flow asynchronously)."""
    deadline = time.monotonic() + seconds
    while True:
        response = probe()
        if done(response) or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def ops(
    *argv: str, stdin: str = "", env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``mindlinks-ops`` as an operator's shell runs it: the venv's console
    script, none of this test process's ``MINDLINKS_*`` settings."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MINDLINKS_")}
    return subprocess.run(  # noqa: S603 - our own console script, fixed arguments
        [str(CLI), *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=120,
        check=False,
    )


def register_person(
    edge: httpx.Client, role: str = "client", name: str = "Ada Byron", password: str = PASSWORD
) -> str:
    """Register and verify through the local mailbox: the new person's email."""
    email = f"{role}-{uuid.uuid4().hex[:10]}@example.com"
    registered = edge.post(
        "/v1/auth/register",
        json={"email": email, "password": password, "name": name, "role": role},
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


def login(
    edge: httpx.Client, email: str, password: str = PASSWORD, code: str | None = None
) -> dict[str, Any]:
    body = {"email": email, "password": password} | ({"mfaCode": code} if code else {})
    response = edge.post("/v1/auth/login", json=body)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


@dataclass(frozen=True)
class Admin:
    id: str
    email: str
    headers: dict[str, str]
    secret: str
    """The TOTP key ``create-admin`` gave back once."""


def create_admin(edge: httpx.Client, run_dir: Path, name: str = "Grace Hopper") -> Admin:
    """An admin as an operator makes one — ``create-admin --state`` against the
    running fleet, with TOTP on (its key comes back once) — then signed in
    through the edge like anyone else, with a one-time code."""
    email = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    created = ops(
        "create-admin",
        "--state",
        str(run_dir / "state.json"),
        "--email",
        email,
        "--name",
        name,
        "--password-stdin",
        "--json",
        stdin=ADMIN_PASSWORD + "\n",
    )
    assert created.returncode == 0, created.stderr
    account = json.loads(created.stdout)
    secret = account.pop("mfa")["secret"]
    assert account == {"id": account["id"], "email": email, "name": name, "role": "admin"}
    tokens = login(edge, email, ADMIN_PASSWORD, totp.code(secret))
    return Admin(account["id"], email, bearer(tokens["accessToken"]), secret)


def revoked(response: httpx.Response) -> bool:
    return (
        response.status_code == 401
        and response.headers["content-type"] == "application/problem+json"
        and response.json().get("reason") == "revoked"
    )


def accepted_everywhere(edge: httpx.Client, headers: Mapping[str, str]) -> None:
    statuses = {
        name: edge.get(path, headers=headers).status_code
        for name, path in AUTHENTICATED_GETS.items()
    }
    assert 401 not in statuses.values(), f"the live token is not accepted everywhere: {statuses}"


def refused_everywhere(
    edge: httpx.Client, headers: Mapping[str, str], started: float, within: float
) -> dict[str, float]:
    """Probe every service until each refuses the token as revoked: the
    seconds since ``started`` at which each did; fails after ``within``."""
    refused_after: dict[str, float] = {}
    last: dict[str, httpx.Response] = {}
    deadline = started + within
    while len(refused_after) < len(AUTHENTICATED_GETS) and time.monotonic() < deadline:
        for name, path in AUTHENTICATED_GETS.items():
            if name in refused_after:
                continue
            last[name] = edge.get(path, headers=headers)
            if revoked(last[name]):
                refused_after[name] = time.monotonic() - started
        time.sleep(0.1)
    still = {n: (r.status_code, r.text[:200]) for n, r in last.items() if n not in refused_after}
    assert not still, f"after {within:.0f}s still not refused as revoked: {still}; {refused_after}"
    return refused_after


def timings(refused_after: Mapping[str, float]) -> str:
    return ", ".join(f"{name} {seconds:.2f}s" for name, seconds in sorted(refused_after.items()))
