"""TOTP second factor: setup, enable, sign-in with a code, disable."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import jwt
import pyotp

from mindlinks_dev import totp

if TYPE_CHECKING:
    from conftest import AuthTest


def next_code(secret: str) -> str:
    """The next time step's code: valid now (±1 step of drift is accepted) and
    never the code just used for the current step."""
    return pyotp.TOTP(secret).at(time.time(), counter_offset=1)


async def enabled(t: AuthTest, user: dict[str, Any]) -> tuple[dict[str, Any], str]:
    tokens = await t.login(user)
    headers = t.bearer(tokens["accessToken"])
    setup = await t.auth.post("/v1/auth/mfa/setup", headers=headers)
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    enable = await t.auth.post(
        "/v1/auth/mfa/enable", headers=headers, json={"code": pyotp.TOTP(secret).now()}
    )
    assert enable.status_code == 204, enable.text
    return tokens, secret


async def test_setup_and_enable(t: AuthTest) -> None:
    user = await t.user()
    tokens = await t.login(user)
    headers = t.bearer(tokens["accessToken"])
    setup = await t.auth.post("/v1/auth/mfa/setup", headers=headers)
    assert setup.status_code == 200, setup.text
    assert setup.headers["cache-control"] == "no-store"
    body = setup.json()
    assert set(body) == {"secret", "otpauthUri"}
    assert body["otpauthUri"].startswith("otpauth://totp/Mind-Links:")
    assert f"secret={body['secret']}" in body["otpauthUri"]
    # Pending until a code confirms it; stored encrypted.
    me = (await t.auth.get("/v1/auth/me", headers=headers)).json()
    assert me["mfaEnabled"] is False
    item = await t.deps.store.users.get({"id": user["id"]})
    assert item is not None
    assert body["secret"] not in str(item)
    assert item["mfaPending"]

    wrong = await t.auth.post("/v1/auth/mfa/enable", headers=headers, json={"code": "000000"})
    t.problem(wrong, 422, "mfa-code-invalid")
    t.problem(
        await t.auth.post("/v1/auth/mfa/enable", headers=headers, json={"code": "12"}),
        422,
        "invalid-input",
    )
    ok = await t.auth.post(
        "/v1/auth/mfa/enable", headers=headers, json={"code": pyotp.TOTP(body["secret"]).now()}
    )
    assert ok.status_code == 204, ok.text
    me = (await t.auth.get("/v1/auth/me", headers=headers)).json()
    assert me["mfaEnabled"] is True
    item = await t.deps.store.users.get({"id": user["id"]})
    assert item is not None
    assert "mfaPending" not in item
    assert body["secret"] not in str(item)
    t.problem(await t.auth.post("/v1/auth/mfa/setup", headers=headers), 409, "mfa-already-enabled")


async def test_enable_needs_a_setup_first(t: AuthTest) -> None:
    user = await t.user()
    tokens = await t.login(user)
    t.problem(
        await t.auth.post(
            "/v1/auth/mfa/enable", headers=t.bearer(tokens["accessToken"]), json={"code": "123456"}
        ),
        409,
        "mfa-not-pending",
    )


async def test_login_requires_a_valid_unused_code_once_enabled(t: AuthTest) -> None:
    user = await t.user()
    _, secret = await enabled(t, user)
    t.problem(
        await t.auth.post(
            "/v1/auth/login", json={"email": user["email"], "password": user["password"]}
        ),
        401,
        "mfa-required",
    )
    t.problem(
        await t.auth.post(
            "/v1/auth/login",
            json={"email": user["email"], "password": user["password"], "mfaCode": "000000"},
        ),
        401,
        "mfa-invalid",
    )
    t.problem(
        await t.auth.post(
            "/v1/auth/login",
            json={"email": user["email"], "password": user["password"], "mfaCode": "abc"},
        ),
        401,
        "mfa-invalid",
    )
    # A wrong password with a code is still just wrong credentials.
    t.problem(
        await t.auth.post(
            "/v1/auth/login",
            json={"email": user["email"], "password": "Wrong-Guess-123", "mfaCode": "000000"},
        ),
        401,
        "invalid-credentials",
    )
    code = next_code(secret)
    tokens = await t.login(user, mfaCode=code)
    assert tokens["accessToken"]
    # The same code cannot be replayed.
    t.problem(
        await t.auth.post(
            "/v1/auth/login",
            json={"email": user["email"], "password": user["password"], "mfaCode": code},
        ),
        401,
        "mfa-invalid",
    )


async def test_guessing_codes_counts_towards_the_throttle(t: AuthTest) -> None:
    user = await t.user()
    _, secret = await enabled(t, user)
    for _ in range(t.settings.login_pair_free_failures):
        await t.auth.post(
            "/v1/auth/login",
            json={"email": user["email"], "password": user["password"], "mfaCode": "000000"},
        )
    locked = await t.auth.post(
        "/v1/auth/login",
        json={
            "email": user["email"],
            "password": user["password"],
            "mfaCode": pyotp.TOTP(secret).now(),
        },
    )
    t.problem(locked, 429, "too-many-attempts")


async def test_disable(t: AuthTest) -> None:
    user = await t.user()
    tokens, secret = await enabled(t, user)
    headers = t.bearer(tokens["accessToken"])
    t.problem(
        await t.auth.post("/v1/auth/mfa/disable", headers=headers, json={"code": "000000"}),
        422,
        "mfa-code-invalid",
    )
    code = next_code(secret)
    ok = await t.auth.post("/v1/auth/mfa/disable", headers=headers, json={"code": code})
    assert ok.status_code == 204, ok.text
    await t.login(user)
    t.problem(
        await t.auth.post("/v1/auth/mfa/disable", headers=headers, json={"code": code}),
        409,
        "mfa-not-enabled",
    )


async def test_mfa_routes_need_a_user_token(t: AuthTest) -> None:
    service = t.bearer(await t.service_token("user"))
    for path, body in (
        ("/v1/auth/mfa/setup", None),
        ("/v1/auth/mfa/enable", {"code": "1"}),
        ("/v1/auth/mfa/disable", {"code": "123456"}),
    ):
        t.problem(await t.auth.post(path, json=body), 401, "unauthorized")
        t.problem(await t.auth.post(path, json=body, headers=service), 401, "unauthorized")


def amr(token: str) -> list[str]:
    methods: list[str] = jwt.decode(token, options={"verify_signature": False})["amr"]
    return methods


async def test_tokens_say_how_the_user_signed_in_and_refresh_keeps_it(t: AuthTest) -> None:
    """RFC 8176 ``amr``: the session remembers it, so a refreshed token cannot
    claim more (or less) than the sign-in proved."""
    user = await t.user()
    password_only = await t.login(user)
    assert amr(password_only["accessToken"]) == ["pwd"]
    _, secret = await enabled(t, user)
    # The session signed in before MFA stays password-only, refreshed or not.
    rotated = await t.auth.post(
        "/v1/auth/refresh", json={"refreshToken": password_only["refreshToken"]}
    )
    assert amr(rotated.json()["accessToken"]) == ["pwd"]

    both = await t.login(user, mfaCode=next_code(secret))
    assert amr(both["accessToken"]) == ["pwd", "otp", "mfa"]
    refreshed = await t.auth.post("/v1/auth/refresh", json={"refreshToken": both["refreshToken"]})
    assert refreshed.status_code == 200, refreshed.text
    assert amr(refreshed.json()["accessToken"]) == ["pwd", "otp", "mfa"]


async def test_an_admin_without_mfa_can_still_set_it_up(t: AuthTest) -> None:
    """An admin who turned MFA off signs in with a password alone: auth's own
    account and MFA routes still serve them (to turn it back on); the admin
    role itself does not count until they sign in again with a code."""
    admin = await t.user(role="admin")
    tokens = await t.login(admin)
    headers = t.bearer(tokens["accessToken"])
    off = await t.auth.post(
        "/v1/auth/mfa/disable", headers=headers, json={"code": totp.code(admin["mfaSecret"])}
    )
    assert off.status_code == 204, off.text
    weak = await t.auth.post(
        "/v1/auth/login", json={"email": admin["email"], "password": admin["password"]}
    )
    assert amr(weak.json()["accessToken"]) == ["pwd"]
    weak_headers = t.bearer(weak.json()["accessToken"])
    me = await t.auth.get("/v1/auth/me", headers=weak_headers)
    assert (me.status_code, me.json()["mfaEnabled"]) == (200, False)
    setup = await t.auth.post("/v1/auth/mfa/setup", headers=weak_headers)
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    enable = await t.auth.post(
        "/v1/auth/mfa/enable", headers=weak_headers, json={"code": pyotp.TOTP(secret).now()}
    )
    assert enable.status_code == 204, enable.text
    strong = await t.login({**admin, "mfaSecret": secret}, mfaCode=next_code(secret))
    assert amr(strong["accessToken"]) == ["pwd", "otp", "mfa"]
