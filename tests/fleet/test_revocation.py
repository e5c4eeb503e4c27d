"""A suspended user is locked out of the whole fleet: the refresh token stops
at once (auth), and live access tokens stop on every service as soon as the
``user.suspended`` event reaches it — not when they expire."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from mindlinks_dev.harness import Running, installed_services
from mindlinks_dev.pytest_plugin import StartServices

PASSWORD = "correct horse battery staple"


def _authenticated_get(app: FastAPI) -> str:
    """The service's first public GET route (each one checks the caller's
    token), path parameters filled with an id nobody has: not a 401 before
    the suspension, a 401 after."""
    paths = [p for p, ops in app.openapi()["paths"].items() if "get" in ops]
    path = next(p for p in paths if p.startswith("/v1/") and "/dev/" not in p)
    return re.sub(r"\{[^}]+\}", uuid.uuid4().hex, path)


async def _login(platform: Running) -> tuple[str, dict[str, Any]]:
    accounts = platform.deps("auth").accounts
    email = f"suspend-{uuid.uuid4().hex[:10]}@example.com"
    user = await accounts.register(
        email=email, password=PASSWORD, name="Eve Mallory", role="client"
    )
    await platform.deps("auth").store.update_user(user.id, {"emailVerified": True})
    response = await platform.client("auth").post(
        "/v1/auth/login", json={"email": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return user.id, response.json()


async def _probe(platform: Running, token: str) -> dict[str, httpx.Response]:
    headers = {"authorization": f"Bearer {token}"}
    return {
        name: await platform.client(name).get(
            _authenticated_get(platform.apps[name]), headers=headers
        )
        for name in platform.apps
    }


async def test_a_suspended_user_is_refused_by_every_service(platform: Running) -> None:
    user_id, tokens = await _login(platform)
    before = await _probe(platform, tokens["accessToken"])
    assert all(r.status_code != 401 for r in before.values()), {
        n: r.text for n, r in before.items() if r.status_code == 401
    }

    suspended = await platform.client("auth").post(
        f"/internal/auth/users/{user_id}/suspend",
        headers=platform.service_bearer("admin"),
        json={"reason": "chargeback fraud"},
    )
    assert suspended.status_code == 200, suspended.text
    # The refresh token is dead at once, before any event moves.
    refresh = await platform.client("auth").post(
        "/v1/auth/refresh", json={"refreshToken": tokens["refreshToken"]}
    )
    assert refresh.status_code == 401

    await platform.deliver()
    after = await _probe(platform, tokens["accessToken"])
    assert set(after) == set(installed_services())
    for name, response in after.items():
        assert response.status_code == 401, (name, response.text)
        assert response.json().get("reason") == "revoked", (name, response.text)

    # Another user's token still works everywhere.
    _, other = await _login(platform)
    assert all(
        r.status_code != 401 for r in (await _probe(platform, other["accessToken"])).values()
    )


async def test_every_task_of_a_service_learns_of_the_suspension(
    platform: Running, start_services: StartServices
) -> None:
    """SQS hands the event to one task; a second task of the same service
    reads the revocation from the service's table before it checks a token
    (its copy is older than the refresh interval: it has none yet)."""
    user_id, tokens = await _login(platform)
    await platform.client("auth").post(
        f"/internal/auth/users/{user_id}/suspend",
        headers=platform.service_bearer("admin"),
        json={"reason": "account takeover"},
    )
    await platform.deliver()
    async with start_services("auth", "contract") as second:
        task = second.runtime("contract").revocations
        assert task is not None
        path = _authenticated_get(second.apps["contract"])
        headers = {"authorization": f"Bearer {tokens['accessToken']}"}
        refused = await second.client("contract").get(path, headers=headers)
        assert refused.status_code == 401
        assert refused.json()["reason"] == "revoked"
        assert len(task) >= 1  # it loaded the table


async def test_tokens_issued_after_unsuspension_work_and_old_ones_stay_dead(
    platform: Running,
) -> None:
    user_id, tokens = await _login(platform)
    admin = platform.service_bearer("admin")
    auth = platform.client("auth")
    await auth.post(
        f"/internal/auth/users/{user_id}/suspend", headers=admin, json={"reason": "x" * 5}
    )
    await platform.deliver()
    back = await auth.post(f"/internal/auth/users/{user_id}/unsuspend", headers=admin)
    assert back.status_code == 200, back.text
    await platform.deliver()

    # A token issued after the suspension passes; the old one does not.
    late = await platform.runtime("contract").revocations.is_revoked(  # type: ignore[union-attr]
        {"sub": user_id, "iat": 10**10}
    )
    assert late is False
    path = _authenticated_get(platform.apps["contract"])
    old = await platform.client("contract").get(
        path, headers={"authorization": f"Bearer {tokens['accessToken']}"}
    )
    assert old.status_code == 401
