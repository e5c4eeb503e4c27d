"""Sign-in throttling through the public API: guessing is slowed per
(account, address), an account has a high and short hard ceiling, an address
is slowed (never blocked for long) — and none of it locks the owner out."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import httpx
import pyotp

if TYPE_CHECKING:
    from conftest import AuthTest

WRONG = "Wrong-Guess-123"


def from_address(t: AuthTest, ip: str) -> httpx.AsyncClient:
    """A client whose requests reach auth from ``ip``."""
    transport = httpx.ASGITransport(app=t.fleet.apps["auth"], client=(ip, 5555))
    return httpx.AsyncClient(transport=transport, base_url="http://auth")


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/v1/auth/login", json={"email": email, "password": password})


def throttled(t: AuthTest, response: httpx.Response) -> int:
    """The seconds a 429 ``too-many-attempts`` asks to wait."""
    t.problem(response, 429, "too-many-attempts")
    wait = int(response.headers["retry-after"])
    assert wait >= 1
    return wait


async def test_an_attacker_on_one_address_cannot_lock_the_owner_out(t: AuthTest) -> None:
    user = await t.user()
    free = t.settings.login_pair_free_failures
    async with from_address(t, "203.0.113.9") as attacker:
        for _ in range(free):
            t.problem(await sign_in(attacker, user["email"], WRONG), 401, "invalid-credentials")
        # The attacker is slowed down, even with the right password...
        wait = throttled(t, await sign_in(attacker, user["email"], WRONG))
        assert wait <= t.settings.login_pair_base_delay_seconds + 1
        throttled(t, await sign_in(attacker, user["email"], user["password"]))
    # ...while the owner, on their own address, signs in at once.
    await t.login(user)


async def test_the_right_password_works_after_the_short_backoff(t: AuthTest) -> None:
    user = await t.user()
    for _ in range(t.settings.login_pair_free_failures):
        t.problem(await sign_in(t.auth, user["email"], WRONG), 401, "invalid-credentials")
    wait = throttled(t, await sign_in(t.auth, user["email"], user["password"]))
    assert wait <= t.settings.login_pair_base_delay_seconds
    await asyncio.sleep(wait)
    await t.login(user)
    # A sign-in clears the pair: typos are free again.
    for _ in range(t.settings.login_pair_free_failures):
        t.problem(await sign_in(t.auth, user["email"], WRONG), 401, "invalid-credentials")


async def test_the_backoff_doubles_with_each_failure(t: AuthTest) -> None:
    user = await t.user()
    for _ in range(t.settings.login_pair_free_failures):
        await sign_in(t.auth, user["email"], WRONG)
    first = throttled(t, await sign_in(t.auth, user["email"], WRONG))
    assert first <= t.settings.login_pair_base_delay_seconds
    await asyncio.sleep(first)
    t.problem(await sign_in(t.auth, user["email"], WRONG), 401, "invalid-credentials")
    second = throttled(t, await sign_in(t.auth, user["email"], WRONG))
    assert second == 2 * first


async def test_parallel_guesses_cannot_outrun_the_throttle(t: AuthTest) -> None:
    user = await t.user()
    responses = await asyncio.gather(*(sign_in(t.auth, user["email"], WRONG) for _ in range(15)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(401) == t.settings.login_pair_free_failures, statuses
    assert statuses.count(429) == 15 - t.settings.login_pair_free_failures, statuses


async def test_unknown_emails_are_throttled_alike(t: AuthTest) -> None:
    email = t.new_email()
    for _ in range(t.settings.login_pair_free_failures):
        t.problem(await sign_in(t.auth, email, WRONG), 401, "invalid-credentials")
    throttled(t, await sign_in(t.auth, email, WRONG))


async def test_the_account_ceiling_bounds_a_distributed_guess_and_a_reset_lifts_it(
    t: AuthTest,
) -> None:
    user = await t.user()
    await t.login(user)  # the owner's usual address (127.0.0.1) is known now
    ceiling = t.settings.login_account_max_failures
    free = t.settings.login_pair_free_failures
    addresses = [f"198.51.100.{i}" for i in range(1, ceiling // free + 1)]

    async def guess_from(ip: str) -> list[int]:
        async with from_address(t, ip) as bot:
            return [(await sign_in(bot, user["email"], WRONG)).status_code for _ in range(free)]

    statuses = [s for batch in await asyncio.gather(*map(guess_from, addresses)) for s in batch]
    assert statuses == [401] * ceiling
    # The ceiling is reached: every new address waits now, even with the
    # right password (a guess at it would be refused alike)...
    async with from_address(t, "192.0.2.77") as fresh:
        wait = throttled(t, await sign_in(fresh, user["email"], user["password"]))
        assert wait <= t.settings.login_account_window_seconds
        # ...other accounts do not...
        assert (
            await sign_in(fresh, (other := await t.user())["email"], other["password"])
        ).status_code == 200
    # ...nor the owner on an address they signed in from before.
    await t.login(user)
    # A password reset (the inbox proves the owner) lifts the ceiling at once.
    await t.auth.post("/v1/auth/forgot-password", json={"email": user["email"]})
    token = await t.mailbox.token(user["email"], "auth.reset-password")
    reset = await t.auth.post(
        "/v1/auth/reset-password", json={"token": token, "password": t.NEW_PASSWORD}
    )
    assert reset.status_code == 204, reset.text
    async with from_address(t, "192.0.2.77") as fresh:
        after = await sign_in(fresh, user["email"], t.NEW_PASSWORD)
    assert after.status_code == 200, after.text


async def test_one_address_spraying_many_accounts_is_slowed_not_blocked(t: AuthTest) -> None:
    regular = await t.user()
    newcomer = await t.user()
    ip = "203.0.113.50"
    async with from_address(t, ip) as office:
        # The regular has signed in from this address (one office NAT) before.
        assert (await sign_in(office, regular["email"], regular["password"])).status_code == 200
        interval = t.settings.login_address_interval_seconds
        began = time.monotonic()
        for _ in range(t.settings.login_address_burst):
            sprayed = await sign_in(office, t.new_email(), "Summer-2026-Spray")
            t.problem(sprayed, 401, "invalid-credentials")
        # Beyond the burst the address is slowed, for seconds, not locked: one
        # more attempt per interval that passed meanwhile (a loaded machine
        # takes longer than an interval for the burst), and no more.
        allowed = 0
        while (
            sprayed := await sign_in(office, t.new_email(), "Summer-2026-Spray")
        ).status_code != 429:
            t.problem(sprayed, 401, "invalid-credentials")
            allowed += 1
            assert allowed <= (time.monotonic() - began) / interval + 1, "not slowed"
        wait = throttled(t, sprayed)
        assert wait <= t.settings.login_address_interval_seconds
        throttled(t, await sign_in(office, newcomer["email"], newcomer["password"]))
        # A pair that signed in from here before is not slowed by the others.
        ok = await sign_in(office, regular["email"], regular["password"])
        assert ok.status_code == 200, ok.text
    # Elsewhere nobody notices.
    await t.login(newcomer)


async def test_a_known_password_buys_no_extra_second_factor_guesses(t: AuthTest) -> None:
    user = await t.user()
    headers = t.bearer((await t.login(user))["accessToken"])
    secret = (await t.auth.post("/v1/auth/mfa/setup", headers=headers)).json()["secret"]
    code = pyotp.TOTP(secret).now()
    enable = await t.auth.post("/v1/auth/mfa/enable", headers=headers, json={"code": code})
    assert enable.status_code == 204, enable.text

    async def guess(code: str | None) -> httpx.Response:
        body: dict[str, Any] = {"email": user["email"], "password": user["password"]}
        if code is not None:
            body["mfaCode"] = code
        return await t.auth.post("/v1/auth/login", json=body)

    free = t.settings.login_pair_free_failures
    for i in range(free):
        t.problem(await guess("000000"), 401, "mfa-invalid")
        if i < free - 1:
            # The right password alone (the code still to come) is not a
            # failure, and does not reset the pair either.
            t.problem(await guess(None), 401, "mfa-required")
    throttled(t, await guess(None))


async def test_a_sign_in_is_forgiven_when_redis_has_lost_the_throttle_script(
    t: AuthTest,
) -> None:
    """Forgiving the attempt shares a round trip with the new session's refresh
    tokens and calls the script by digest only; a digest Redis does not know
    (as after a restart) falls back to loading the script."""
    user = await t.user()
    throttle = t.deps.sessions.throttle
    async with from_address(t, "203.0.113.9") as client:
        assert (await sign_in(client, user["email"], WRONG)).status_code == 401
        throttle._forgive.sha = "0" * 40  # what Redis answers NOSCRIPT to
        signed_in = await sign_in(client, user["email"], user["password"])
    assert signed_in.status_code == 200, signed_in.text
    redis = t.fleet.runtime("auth").redis
    assert redis is not None
    pairs, _, _, known = throttle._keys(throttle._account(user["email"]), "203.0.113.9")
    assert await redis.exists(known) == 1  # signed in: the pair is known now
    assert await redis.hget(pairs, "n:203.0.113.9") is None  # and its failures cleared
    refreshed = await t.auth.post(
        "/v1/auth/refresh", json={"refreshToken": signed_in.json()["refreshToken"]}
    )
    assert refreshed.status_code == 200, refreshed.text
