"""Sign-in: tokens, sessions, throttling, refusals, password hash upgrades."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jwt
import pytest
from pwdlib.hashers.bcrypt import BcryptHasher

from mindlinks_auth import store

if TYPE_CHECKING:
    from conftest import AuthTest


async def test_login_issues_tokens_and_records_the_session(t: AuthTest) -> None:
    user = await t.user(role="contractor")
    response = await t.auth.post(
        "/v1/auth/login",
        json={"email": user["email"].upper(), "password": user["password"]},
        headers={"user-agent": "pytest-browser/1.0"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert set(tokens) == {"accessToken", "refreshToken", "tokenType", "expiresIn"}
    assert tokens["tokenType"] == "Bearer"
    assert tokens["expiresIn"] == 900
    claims = jwt.decode(tokens["accessToken"], options={"verify_signature": False})
    assert claims["sub"] == user["id"]
    assert claims["role"] == "contractor"
    assert claims["typ"] == "access"
    assert claims["aud"] == t.settings.jwt_audience
    assert claims["iss"] == t.settings.jwt_issuer
    assert claims["exp"] - claims["iat"] == 900
    header = jwt.get_unverified_header(tokens["accessToken"])
    assert header["alg"] == "RS256"
    assert header["kid"] == t.deps.keys.active.kid
    session = await t.deps.store.session(claims["sid"])
    assert session is not None
    assert session.user_id == user["id"]
    assert session.ip == "127.0.0.1"
    assert session.user_agent == "pytest-browser/1.0"
    assert session.status == "active"
    item = await t.deps.store.sessions.get({"id": claims["sid"]})
    assert item is not None
    assert item["expiresAt"] > claims["exp"]
    # The refresh token is opaque and stored only as a digest.
    assert tokens["refreshToken"].startswith(claims["sid"] + ".")
    redis = t.fleet.runtime("auth").redis
    assert redis is not None
    secret = tokens["refreshToken"].split(".", 1)[1]
    async for key in redis.scan_iter(match=f"{t.resources.prefix}auth:*"):
        if await redis.type(key) == "hash":
            assert secret not in str(await redis.hgetall(key))


async def test_wrong_password_and_unknown_email_look_the_same(t: AuthTest) -> None:
    user = await t.user()
    wrong = await t.auth.post(
        "/v1/auth/login", json={"email": user["email"], "password": "Not-The-Password-1"}
    )
    unknown = await t.auth.post(
        "/v1/auth/login", json={"email": t.new_email(), "password": "Whatever-Pass-1"}
    )
    a = t.problem(wrong, 401, "invalid-credentials")
    b = t.problem(unknown, 401, "invalid-credentials")
    assert a["detail"] == b["detail"]


async def test_login_validates_input(t: AuthTest) -> None:
    for data in (
        {"email": "a@example.com"},
        {"password": "x"},
        {},
        {"email": "a@example.com", "password": ""},
        {"email": "a@example.com", "password": "x" * 300},
    ):
        found = t.problem(await t.auth.post("/v1/auth/login", json=data), 422, "invalid-input")
        assert found["errors"]
    raw = await t.auth.post(
        "/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    t.problem(raw, 422, "invalid-input")


async def test_unverified_and_suspended_accounts_cannot_sign_in(t: AuthTest) -> None:
    unverified = await t.user(verified=False)
    t.problem(
        await t.auth.post(
            "/v1/auth/login",
            json={"email": unverified["email"], "password": unverified["password"]},
        ),
        401,
        "invalid-credentials",
    )
    suspended = await t.user()
    await t.deps.accounts.suspend(suspended["id"], "fraud review")
    t.problem(
        await t.auth.post(
            "/v1/auth/login", json={"email": suspended["email"], "password": suspended["password"]}
        ),
        403,
        "account-suspended",
    )
    # Refusals that reveal account state need the right password first.
    t.problem(
        await t.auth.post(
            "/v1/auth/login", json={"email": suspended["email"], "password": "Wrong-Password-123"}
        ),
        401,
        "invalid-credentials",
    )


# Throttling: test_throttle.py.


async def test_bcrypt_hashes_verify_and_are_upgraded_to_argon2(t: AuthTest) -> None:
    user = await t.user()
    legacy = BcryptHasher().hash(user["password"])
    await t.deps.store.update_user(user["id"], {"passwordHash": legacy})
    await t.login(user)
    stored = await t.deps.store.user(user["id"])
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")
    await t.login(user)


async def test_admins_are_made_by_operators_only(t: AuthTest) -> None:
    admin = await t.user(role="admin")
    tokens = await t.login(admin)
    me = await t.auth.get("/v1/auth/me", headers=t.bearer(tokens["accessToken"]))
    assert me.json()["role"] == "admin"
    assert me.json()["emailVerified"] is True


async def test_a_sign_in_after_the_first_reads_the_user_alone(t: AuthTest) -> None:
    """Email claims never change, so the user id one names is remembered; the
    user item still has to carry the address for a remembered id to count."""
    user = await t.user()
    await t.login(user)  # the claim is read and its user id remembered
    users = t.deps.store.users
    claim = {"id": {"S": f"email#{user['email']}"}}
    await users.client.delete_item(TableName=users.name, Key=claim)
    # Without the claim, only a remembered id can find the user.
    await t.login(user)
    # The user item no longer carries the address: the remembered id no longer
    # counts, and with the claim gone nobody has the address.
    await t.deps.store.update_user(user["id"], {"email": t.new_email()})
    t.problem(
        await t.auth.post(
            "/v1/auth/login", json={"email": user["email"], "password": user["password"]}
        ),
        401,
        "invalid-credentials",
    )
    assert await t.deps.store.user_by_email(user["email"]) is None


async def test_the_remembered_claims_are_bounded_least_recently_used_first(
    t: AuthTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "REMEMBERED_EMAILS", 2)
    first, second, third = [await t.user() for _ in range(3)]
    found = t.deps.store.user_by_email
    for user in (first, second, first, third):  # ``second`` is the least recently used
        assert await found(user["email"]) is not None
    users = t.deps.store.users
    for user in (first, second, third):
        claim = {"id": {"S": f"email#{user['email']}"}}
        await users.client.delete_item(TableName=users.name, Key=claim)
    assert await found(first["email"]) is not None
    assert await found(third["email"]) is not None
    assert await found(second["email"]) is None  # forgotten, and its claim is gone
