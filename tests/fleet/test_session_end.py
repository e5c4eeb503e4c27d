"""Ending a session ends its access everywhere: after a logout, a reused
refresh token or a password reset, the session's live access tokens stop
working on every service as soon as ``session.ended`` reaches it — not when
they expire — while the user's other sessions keep working."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from mindlinks_dev.harness import Running, installed_services
from mindlinks_dev.pytest_plugin import StartServices

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "an entirely different passphrase 7"


def _authenticated_get(app: FastAPI) -> str:
    """The service's first public GET route (each checks the caller's token),
    path parameters filled with an id nobody has (as test_revocation does)."""
    paths = [p for p, ops in app.openapi()["paths"].items() if "get" in ops]
    path = next(p for p in paths if p.startswith("/v1/") and "/dev/" not in p)
    return re.sub(r"\{[^}]+\}", uuid.uuid4().hex, path)


async def _user(platform: Running) -> tuple[str, str]:
    accounts = platform.deps("auth").accounts
    email = f"session-{uuid.uuid4().hex[:10]}@example.com"
    user = await accounts.register(
        email=email, password=PASSWORD, name="Eve Mallory", role="client"
    )
    await platform.deps("auth").store.update_user(user.id, {"emailVerified": True})
    return user.id, email


async def _login(platform: Running, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await platform.client("auth").post(
        "/v1/auth/login", json={"email": email, "password": password}
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


async def _probe(platform: Running, token: str) -> dict[str, httpx.Response]:
    headers = {"authorization": f"Bearer {token}"}
    return {
        name: await platform.client(name).get(
            _authenticated_get(platform.apps[name]), headers=headers
        )
        for name in platform.apps
    }


async def _accepted_everywhere(platform: Running, token: str) -> None:
    found = await _probe(platform, token)
    refused = {n: r.text for n, r in found.items() if r.status_code == 401}
    assert not refused, refused


async def _refused_everywhere(platform: Running, token: str) -> None:
    found = await _probe(platform, token)
    assert set(found) == set(installed_services())
    for name, response in found.items():
        assert response.status_code == 401, (name, response.text)
        assert response.json().get("reason") == "revoked", (name, response.text)


async def test_after_logout_every_service_refuses_the_access_token(platform: Running) -> None:
    _, email = await _user(platform)
    tokens = await _login(platform, email)
    other_device = await _login(platform, email)
    await _accepted_everywhere(platform, tokens["accessToken"])

    logout = await platform.client("auth").post(
        "/v1/auth/logout",
        json={"refreshToken": tokens["refreshToken"]},
        headers={"authorization": f"Bearer {tokens['accessToken']}"},
    )
    assert logout.status_code == 204, logout.text
    await platform.deliver()

    await _refused_everywhere(platform, tokens["accessToken"])
    # The user's other session is another device: it goes on.
    await _accepted_everywhere(platform, other_device["accessToken"])


async def test_a_reused_refresh_token_ends_the_session_everywhere(platform: Running) -> None:
    _, email = await _user(platform)
    first = await _login(platform, email)
    auth = platform.client("auth")
    rotated = await auth.post("/v1/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert rotated.status_code == 200, rotated.text
    # A thief replays the old refresh token: the whole session ends.
    reused = await auth.post("/v1/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert (reused.status_code, reused.json()["code"]) == (401, "refresh-reused")
    await platform.deliver()

    for token in (first["accessToken"], rotated.json()["accessToken"]):
        await _refused_everywhere(platform, token)


async def test_a_password_reset_ends_every_session_everywhere(platform: Running) -> None:
    user_id, email = await _user(platform)
    laptop, phone = await _login(platform, email), await _login(platform, email)
    token = await platform.deps("auth").accounts.reset_tokens.issue(user_id)
    reset = await platform.client("auth").post(
        "/v1/auth/reset-password", json={"token": token, "password": NEW_PASSWORD}
    )
    assert reset.status_code == 204, reset.text
    await platform.deliver()

    for tokens in (laptop, phone):
        await _refused_everywhere(platform, tokens["accessToken"])
    # Signing in again with the new password works at once, everywhere (the
    # revocation names the ended sessions, not the user).
    fresh = await _login(platform, email, NEW_PASSWORD)
    await _accepted_everywhere(platform, fresh["accessToken"])


async def test_one_event_per_ended_session(platform: Running) -> None:
    """Ending an already ended session publishes nothing more."""
    user_id, email = await _user(platform)
    tokens = await _login(platform, email)
    sessions = platform.deps("auth").sessions
    session_id = (await sessions.store.active_session_ids(user_id))[0]
    await sessions.revoke(session_id, "logout")
    await sessions.revoke(session_id, "logout")
    ended = await platform.published("auth", "session.ended", sessionId=session_id)
    assert ended == [{"sessionId": session_id, "userId": user_id, "reason": "logout"}]
    await platform.deliver()
    await _refused_everywhere(platform, tokens["accessToken"])


async def test_every_task_learns_of_the_ended_session(
    platform: Running, start_services: StartServices
) -> None:
    """SQS hands the event to one task; another task of the service reads it
    from the service's table before it checks a token."""
    _, email = await _user(platform)
    tokens = await _login(platform, email)
    await platform.client("auth").post(
        "/v1/auth/logout",
        json={"refreshToken": tokens["refreshToken"]},
        headers={"authorization": f"Bearer {tokens['accessToken']}"},
    )
    await platform.deliver()
    async with start_services("auth", "payment") as second:
        task = second.runtime("payment").revocations
        assert task is not None
        path = _authenticated_get(second.apps["payment"])
        headers = {"authorization": f"Bearer {tokens['accessToken']}"}
        refused = await second.client("payment").get(path, headers=headers)
        assert (refused.status_code, refused.json()["reason"]) == (401, "revoked")
        assert len(task) >= 1  # it loaded the table


async def test_records_from_before_claims_were_recorded_still_revoke_a_subject(
    platform: Running,
) -> None:
    """A ``revocations`` table written before ``session.ended`` existed holds
    ``subject → revokedAtMs`` items: they keep revoking that subject."""
    revocations = platform.runtime("ledger").revocations
    assert revocations is not None
    user_id, now = uuid.uuid4().hex, int(time.time())
    await revocations.table.put(
        {"subject": user_id, "revokedAtMs": now * 1000, "expiresAt": now + 3600}
    )
    await revocations.refresh()
    assert await revocations.is_revoked({"sub": user_id, "iat": now - 5})
    assert not await revocations.is_revoked({"sub": user_id, "iat": now + 5})
    assert not await revocations.is_revoked({"sub": uuid.uuid4().hex, "iat": now - 5})
