"""A person registers, reads the verification mail, verifies, logs in,
refreshes and reads their profile — which exists because ``user.created``
travelled outbox → EventBridge → SQS → the user service."""

from __future__ import annotations

import uuid

import httpx

from mindlinks_dev.outside import eventually

PASSWORD = "a long and unusual passphrase 42"


def test_register_verify_login_refresh_profile(edge: httpx.Client) -> None:
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    registered = edge.post(
        "/v1/auth/register",
        json={"email": email, "password": PASSWORD, "name": "Ada Lovelace", "role": "client"},
    )
    assert registered.status_code == 202, registered.text
    assert registered.json() == {"email": email}

    mail = eventually(
        lambda: edge.get("/v1/notifications/dev/mailbox", params={"to": email}),
        lambda r: (
            r.status_code == 200
            and any(m["template"] == "auth.verify-email" for m in r.json()["items"])
        ),
    )
    verification = [m for m in mail.json()["items"] if m["template"] == "auth.verify-email"]
    assert verification, "the verification mail did not arrive"
    token = verification[0]["data"]["token"]
    assert token in verification[0]["text"]

    too_early = edge.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert too_early.status_code == 401  # as a wrong password (no account oracle)
    assert too_early.headers["content-type"] == "application/problem+json"

    assert edge.post("/v1/auth/verify-email", json={"token": token}).status_code == 200
    login = edge.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    tokens = login.json()

    refreshed = edge.post("/v1/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    assert refreshed.status_code == 200, refreshed.text
    access = refreshed.json()["accessToken"]
    headers = {"authorization": f"Bearer {access}"}

    me = edge.get("/v1/auth/me", headers=headers)
    assert me.json()["emailVerified"] is True
    user_id = me.json()["id"]

    profile = eventually(lambda: edge.get("/v1/users/me", headers=headers))
    assert profile.status_code == 200, profile.text
    assert profile.json()["userId"] == user_id
    assert profile.json()["email"] == email

    welcome = eventually(
        lambda: edge.get("/v1/notifications/me", headers=headers),
        lambda r: r.status_code == 200 and r.json()["items"],
    )
    assert welcome.json()["items"][0]["template"] == "user.welcome"


def test_the_edge_never_routes_internal_or_health_routes(edge: httpx.Client) -> None:
    for path in (
        "/internal/auth/users/x",
        "/v1/auth/../internal/ops/status",
        "/v1/unknown-area/x",
    ):
        response = edge.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
    # The edge answers its own readiness (every upstream routable), never a
    # service's: no table, queue or Redis check leaks through it.
    ready = edge.get("/health/ready")
    assert ready.status_code == 200
    assert set(ready.json()) == {"status", "upstreams"}
    assert set(ready.json()["upstreams"].values()) == {"ok"}


def test_jwks_is_public_through_the_edge(edge: httpx.Client) -> None:
    keys = edge.get("/.well-known/jwks.json").json()["keys"]
    assert keys
    assert all(key["kid"] and key["alg"] == "RS256" for key in keys)
