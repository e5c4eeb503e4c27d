"""Forgotten passwords: always 202, a single-use emailed token, every session ended."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mindlinks_auth.tokens import digest

if TYPE_CHECKING:
    from conftest import AuthTest

RESET = "auth.reset-password"


async def test_password_reset_sets_the_password_and_ends_every_session(t: AuthTest) -> None:
    user = await t.user()
    laptop, phone = await t.login(user), await t.login(user)
    response = await t.auth.post("/v1/auth/forgot-password", json={"email": user["email"]})
    assert response.status_code == 202
    mail = (await t.mailbox.items(user["email"], RESET))[0]
    token = mail["data"]["token"]
    assert mail["data"]["resetUrl"] == (
        f"{t.settings.public_base_url}/reset-password?token={token}"
    )

    weak = await t.auth.post(
        "/v1/auth/reset-password", json={"token": token, "password": "password"}
    )
    t.problem(weak, 422, "weak-password")
    # A refused password does not spend the token.
    done = await t.auth.post(
        "/v1/auth/reset-password", json={"token": token, "password": t.NEW_PASSWORD}
    )
    assert done.status_code == 204, done.text

    for tokens in (laptop, phone):
        t.problem(
            await t.auth.post("/v1/auth/refresh", json={"refreshToken": tokens["refreshToken"]}),
            401,
            "invalid-refresh-token",
        )
        t.problem(
            await t.auth.get("/v1/auth/me", headers=t.bearer(tokens["accessToken"])),
            401,
            "unauthorized",
        )
    t.problem(
        await t.auth.post(
            "/v1/auth/login", json={"email": user["email"], "password": user["password"]}
        ),
        401,
        "invalid-credentials",
    )
    await t.login({**user, "password": t.NEW_PASSWORD})
    # Single use.
    again = await t.auth.post(
        "/v1/auth/reset-password", json={"token": token, "password": "Yet-Another-Passphrase-7"}
    )
    t.problem(again, 400, "invalid-token")


async def test_forgot_password_reveals_nothing(t: AuthTest) -> None:
    for email in (t.new_email(), "not-an-email"):
        response = await t.auth.post("/v1/auth/forgot-password", json={"email": email})
        assert response.status_code == 202
        assert response.content == b""
    assert await t.mailbox.items("not-an-email", RESET) == []
    t.problem(await t.auth.post("/v1/auth/forgot-password", json={}), 422, "invalid-input")


async def test_a_new_reset_link_voids_the_previous_one(t: AuthTest) -> None:
    user = await t.user()
    await t.auth.post("/v1/auth/forgot-password", json={"email": user["email"]})
    first = await t.mailbox.token(user["email"], RESET)
    # Within the cooldown no second email is sent.
    await t.auth.post("/v1/auth/forgot-password", json={"email": user["email"]})
    assert len(await t.mailbox.items(user["email"], RESET)) == 1
    await t.deps.accounts.flags.clear(_cooldown(user["email"]))
    await t.auth.post("/v1/auth/forgot-password", json={"email": user["email"]})
    second = await t.mailbox.token(user["email"], RESET)
    assert second != first
    t.problem(
        await t.auth.post(
            "/v1/auth/reset-password", json={"token": first, "password": t.NEW_PASSWORD}
        ),
        400,
        "invalid-token",
    )
    assert (
        await t.auth.post(
            "/v1/auth/reset-password", json={"token": second, "password": t.NEW_PASSWORD}
        )
    ).status_code == 204


async def test_a_reset_lifts_the_backoff_and_verifies_the_email(t: AuthTest) -> None:
    user = await t.user(verified=False)
    for _ in range(t.settings.login_pair_free_failures + 1):
        await t.auth.post(
            "/v1/auth/login", json={"email": user["email"], "password": "Wrong-Guess-123"}
        )
    await t.auth.post("/v1/auth/forgot-password", json={"email": user["email"]})
    token = await t.mailbox.token(user["email"], RESET)
    await t.auth.post("/v1/auth/reset-password", json={"token": token, "password": t.NEW_PASSWORD})
    await t.login({**user, "password": t.NEW_PASSWORD})


async def test_suspended_accounts_get_no_reset_email(t: AuthTest) -> None:
    user = await t.user()
    await t.deps.accounts.suspend(user["id"], "review")
    await t.auth.post("/v1/auth/forgot-password", json={"email": user["email"]})
    assert await t.mailbox.items(user["email"], RESET) == []


def _cooldown(email: str) -> str:
    return f"cooldown:reset:{digest(email)[:32]}"
