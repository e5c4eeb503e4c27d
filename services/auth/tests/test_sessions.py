"""Refresh-token rotation and reuse detection, logout, /me."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jwt

if TYPE_CHECKING:
    from conftest import AuthTest


def sid(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["sid"])


async def test_refresh_rotates_within_the_family(t: AuthTest) -> None:
    user = await t.user()
    first = await t.login(user)
    response = await t.auth.post("/v1/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    second = response.json()
    assert second["refreshToken"] != first["refreshToken"]
    assert sid(second["accessToken"]) == sid(first["accessToken"])
    me = await t.auth.get("/v1/auth/me", headers=t.bearer(second["accessToken"]))
    assert me.status_code == 200
    third = await t.auth.post("/v1/auth/refresh", json={"refreshToken": second["refreshToken"]})
    assert third.status_code == 200


async def test_reusing_a_refresh_token_revokes_the_whole_family(t: AuthTest) -> None:
    user = await t.user()
    first = await t.login(user)
    rotated = (
        await t.auth.post("/v1/auth/refresh", json={"refreshToken": first["refreshToken"]})
    ).json()
    # The old token again (stolen and replayed, or a client bug): the family ends.
    reused = await t.auth.post("/v1/auth/refresh", json={"refreshToken": first["refreshToken"]})
    t.problem(reused, 401, "refresh-reused")
    # The token the rotation issued no longer works either …
    t.problem(
        await t.auth.post("/v1/auth/refresh", json={"refreshToken": rotated["refreshToken"]}),
        401,
        "invalid-refresh-token",
    )
    # … the session is marked revoked, and its access tokens stop working at auth.
    session = await t.deps.store.session(sid(first["accessToken"]))
    assert session is not None
    assert session.status == "revoked"
    me = await t.auth.get("/v1/auth/me", headers=t.bearer(rotated["accessToken"]))
    t.problem(me, 401, "unauthorized")
    # Other sessions of the same user are untouched.
    other = await t.login(user)
    assert (
        await t.auth.post("/v1/auth/refresh", json={"refreshToken": other["refreshToken"]})
    ).status_code == 200


async def test_unknown_or_malformed_refresh_tokens_are_refused(t: AuthTest) -> None:
    user = await t.user()
    tokens = await t.login(user)
    family = sid(tokens["accessToken"])
    for token in (
        "garbage",
        f"{family}.not-the-secret",
        f"{'0' * 32}.whatever",
        tokens["accessToken"][:500],
    ):
        t.problem(
            await t.auth.post("/v1/auth/refresh", json={"refreshToken": token}),
            401,
            "invalid-refresh-token",
        )
    t.problem(
        await t.auth.post("/v1/auth/refresh", json={"refreshToken": tokens["accessToken"]}),
        422,
        "invalid-input",
    )
    # Guessing within a family does not end it.
    assert (
        await t.auth.post("/v1/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    ).status_code == 200
    t.problem(await t.auth.post("/v1/auth/refresh", json={}), 422, "invalid-input")


async def test_logout_ends_the_session(t: AuthTest) -> None:
    user = await t.user()
    tokens = await t.login(user)
    headers = t.bearer(tokens["accessToken"])
    response = await t.auth.post(
        "/v1/auth/logout", headers=headers, json={"refreshToken": tokens["refreshToken"]}
    )
    assert response.status_code == 204, response.text
    t.problem(
        await t.auth.post("/v1/auth/refresh", json={"refreshToken": tokens["refreshToken"]}),
        401,
        "invalid-refresh-token",
    )
    t.problem(await t.auth.get("/v1/auth/me", headers=headers), 401, "unauthorized")
    session = await t.deps.store.session(sid(tokens["accessToken"]))
    assert session is not None
    assert session.status == "revoked"
    # Committed with the revocation: every other service refuses the token once
    # ``session.ended`` reaches it (tests/fleet/test_session_end.py).
    ended = [data for name, data in await t.published(user["id"]) if name == "session.ended"]
    assert [(e["sessionId"], e["reason"]) for e in ended] == [(session.id, "logout")]


async def test_logout_needs_an_access_token_and_only_ends_your_own_sessions(t: AuthTest) -> None:
    alice, bob = await t.user(), await t.user()
    a, b = await t.login(alice), await t.login(bob)
    no_token = await t.auth.post("/v1/auth/logout", json={"refreshToken": a["refreshToken"]})
    t.problem(no_token, 401, "unauthorized")
    assert no_token.headers["www-authenticate"] == "Bearer"
    # Alice cannot end Bob's session with his refresh token.
    foreign = await t.auth.post(
        "/v1/auth/logout",
        headers=t.bearer(a["accessToken"]),
        json={"refreshToken": b["refreshToken"]},
    )
    t.problem(foreign, 404, "session-not-found")
    assert (
        await t.auth.post("/v1/auth/refresh", json={"refreshToken": b["refreshToken"]})
    ).status_code == 200
    assert (await t.auth.get("/v1/auth/me", headers=t.bearer(a["accessToken"]))).status_code == 200


async def test_me_returns_the_callers_account(t: AuthTest) -> None:
    user = await t.user(role="contractor")
    tokens = await t.login(user)
    response = await t.auth.get("/v1/auth/me", headers=t.bearer(tokens["accessToken"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {
        "id": user["id"],
        "email": user["email"],
        "name": "Ada Lovelace",
        "role": "contractor",
        "emailVerified": True,
        "mfaEnabled": False,
        "status": "active",
        "createdAt": body["createdAt"],
    }
    assert body["createdAt"].endswith("Z")


async def test_me_refuses_missing_malformed_and_service_tokens(t: AuthTest) -> None:
    t.problem(await t.auth.get("/v1/auth/me"), 401, "unauthorized")
    t.problem(
        await t.auth.get("/v1/auth/me", headers={"authorization": "Basic abc"}), 401, "unauthorized"
    )
    t.problem(await t.auth.get("/v1/auth/me", headers=t.bearer("not.a.jwt")), 401, "unauthorized")
    service = await t.service_token("user")
    t.problem(await t.auth.get("/v1/auth/me", headers=t.bearer(service)), 401, "unauthorized")
