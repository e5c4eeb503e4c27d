"""Step-up before a sensitive action: a one-time code (mailed, or from the
authenticator app) confirmed for a step-up token of one purpose."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import jwt
import pytest

from mindlinks_auth.tokens import digest
from mindlinks_dev import totp
from mindlinks_kit.auth import STEP_UP_AUDIENCE

if TYPE_CHECKING:
    from conftest import AuthTest

CODE = "auth.step-up-code"
CHALLENGES = "/v1/auth/step-up/challenges"
STEP_UP = "/v1/auth/step-up"


def purpose() -> str:
    return f"contract-sign:{uuid.uuid4().hex}"


async def signed_in(t: AuthTest) -> tuple[dict[str, Any], dict[str, str]]:
    user = await t.user(role="contractor")
    tokens = await t.login(user)
    return user, t.bearer(tokens["accessToken"])


async def with_mfa(t: AuthTest) -> tuple[dict[str, Any], dict[str, str], str]:
    user, headers = await signed_in(t)
    secret = (await t.auth.post("/v1/auth/mfa/setup", headers=headers)).json()["secret"]
    enable = await t.auth.post(
        "/v1/auth/mfa/enable", headers=headers, json={"code": totp.code(secret)}
    )
    assert enable.status_code == 204, enable.text
    return user, headers, secret


async def challenge(
    t: AuthTest, headers: dict[str, str], method: str = "email", for_: str | None = None
) -> dict[str, Any]:
    response = await t.auth.post(
        CHALLENGES, headers=headers, json={"method": method, "purpose": for_ or purpose()}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def mailed_code(t: AuthTest, email: str) -> str:
    mails = await t.mailbox.items(email, CODE)
    assert mails, f"no {CODE} mail for {email}"
    code: str = mails[0]["data"]["code"]
    return code


def down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("notification is down", request=request)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def claims(t: AuthTest, token: str) -> dict[str, Any]:
    """The token's claims, verified with auth's published key and the step-up audience."""
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in t.deps.keys.keys if k.kid == kid).private.public_key()
    decoded: dict[str, Any] = jwt.decode(
        token, key, algorithms=["RS256"], audience=STEP_UP_AUDIENCE, issuer=t.settings.jwt_issuer
    )
    return decoded


async def test_an_emailed_code_grants_a_step_up_token_for_its_purpose(t: AuthTest) -> None:
    user, headers = await signed_in(t)
    wanted = purpose()
    opened = await challenge(t, headers, for_=wanted)
    assert set(opened) == {"challengeId", "method", "expiresAt"}
    assert opened["method"] == "email"
    code = await mailed_code(t, user["email"])
    assert len(code) == 6
    assert code.isdigit()
    mail = (await t.mailbox.items(user["email"], CODE))[0]
    assert mail["data"]["action"] == "sign a contract"
    assert mail["data"]["reference"] == wanted.partition(":")[2]
    # Only its digest, salted with the secret challenge id, is kept.
    redis = t.fleet.runtime("auth").redis
    assert redis is not None
    stored = await redis.hgetall(
        f"{t.resources.prefix}auth:step-up:c:{digest(opened['challengeId'])}"
    )
    assert code not in str(stored)
    assert opened["challengeId"] not in str(stored)
    assert (
        590
        <= await redis.ttl(f"{t.resources.prefix}auth:step-up:c:{digest(opened['challengeId'])}")
        <= 600
    )

    granted = await t.auth.post(
        STEP_UP, headers=headers, json={"challengeId": opened["challengeId"], "code": code}
    )
    assert granted.status_code == 200, granted.text
    assert granted.headers["cache-control"] == "no-store"
    body = granted.json()
    assert set(body) == {"stepUpToken", "method", "verifiedAt", "expiresAt"}
    assert body["method"] == "email"
    header = jwt.get_unverified_header(body["stepUpToken"])
    assert header["alg"] == "RS256"
    assert header["kid"] == t.deps.keys.active.kid
    found = claims(t, body["stepUpToken"])
    assert found["sub"] == user["id"]
    assert found["aud"] == STEP_UP_AUDIENCE
    assert found["typ"] == "step-up"
    assert found["purpose"] == wanted
    assert found["method"] == "email"
    assert found["jti"]
    assert found["sid"]
    assert found["exp"] - found["iat"] == 300
    assert abs(found["auth_time"] - time.time()) < 5


async def test_a_step_up_token_is_no_access_token(t: AuthTest) -> None:
    user, headers = await signed_in(t)
    opened = await challenge(t, headers)
    code = await mailed_code(t, user["email"])
    token = (
        await t.auth.post(
            STEP_UP, headers=headers, json={"challengeId": opened["challengeId"], "code": code}
        )
    ).json()["stepUpToken"]
    t.problem(await t.auth.get("/v1/auth/me", headers=t.bearer(token)), 401, "unauthorized")
    t.problem(await t.auth.post(CHALLENGES, headers=t.bearer(token), json={}), 401)
    introspected = await t.auth.post(
        "/internal/auth/introspect",
        headers=await t.service_headers("admin"),
        json={"token": token},
    )
    assert introspected.json() == {"active": False}


async def test_a_code_works_once(t: AuthTest) -> None:
    user, headers = await signed_in(t)
    opened = await challenge(t, headers)
    answer = {"challengeId": opened["challengeId"], "code": await mailed_code(t, user["email"])}
    assert (await t.auth.post(STEP_UP, headers=headers, json=answer)).status_code == 200
    t.problem(
        await t.auth.post(STEP_UP, headers=headers, json=answer), 404, "step-up-challenge-not-found"
    )


async def test_wrong_codes_count_and_void_the_challenge(t: AuthTest) -> None:
    user, headers = await signed_in(t)
    opened = await challenge(t, headers)
    code = await mailed_code(t, user["email"])
    first = await t.auth.post(
        STEP_UP, headers=headers, json={"challengeId": opened["challengeId"], "code": wrong(code)}
    )
    assert t.problem(first, 422, "step-up-code-invalid")["attemptsLeft"] == 4
    for left in (3, 2, 1):
        again = await t.auth.post(
            STEP_UP,
            headers=headers,
            json={"challengeId": opened["challengeId"], "code": wrong(code)},
        )
        assert t.problem(again, 422, "step-up-code-invalid")["attemptsLeft"] == left
    await t.deps.step_ups.throttle.reset(user["email"])  # the pair's backoff, lifted
    last = await t.auth.post(
        STEP_UP, headers=headers, json={"challengeId": opened["challengeId"], "code": wrong(code)}
    )
    assert t.problem(last, 422, "step-up-code-invalid")["attemptsLeft"] == 0
    right = await t.auth.post(
        STEP_UP, headers=headers, json={"challengeId": opened["challengeId"], "code": code}
    )
    t.problem(right, 404, "step-up-challenge-not-found")


async def test_wrong_codes_are_throttled_like_sign_ins(t: AuthTest) -> None:
    user, headers = await signed_in(t)
    refused = None
    for _ in range(3):
        opened = await challenge(t, headers)
        code = await mailed_code(t, user["email"])
        for _ in range(4):
            response = await t.auth.post(
                STEP_UP,
                headers=headers,
                json={"challengeId": opened["challengeId"], "code": wrong(code)},
            )
            if response.status_code == 429:
                refused = response
                break
        if refused is not None:
            break
    assert refused is not None, "wrong codes were never throttled"
    t.problem(refused, 429, "too-many-attempts")
    assert int(refused.headers["retry-after"]) >= 1


async def test_an_expired_challenge_is_gone(t: AuthTest) -> None:
    user, headers = await signed_in(t)
    opened = await challenge(t, headers)
    code = await mailed_code(t, user["email"])
    redis = t.fleet.runtime("auth").redis
    assert redis is not None
    await redis.pexpire(f"{t.resources.prefix}auth:step-up:c:{digest(opened['challengeId'])}", 1)
    await asyncio.sleep(0.01)
    late = await t.auth.post(
        STEP_UP, headers=headers, json={"challengeId": opened["challengeId"], "code": code}
    )
    t.problem(late, 404, "step-up-challenge-not-found")


async def test_another_users_challenge_is_unknown(t: AuthTest) -> None:
    owner, owner_headers = await signed_in(t)
    _, other_headers = await signed_in(t)
    opened = await challenge(t, owner_headers)
    code = await mailed_code(t, owner["email"])
    stolen = await t.auth.post(
        STEP_UP, headers=other_headers, json={"challengeId": opened["challengeId"], "code": code}
    )
    t.problem(stolen, 404, "step-up-challenge-not-found")
    # The owner's challenge is untouched by the attempt.
    mine = await t.auth.post(
        STEP_UP, headers=owner_headers, json={"challengeId": opened["challengeId"], "code": code}
    )
    assert mine.status_code == 200, mine.text


async def test_an_authenticator_code_grants_a_totp_step_up(t: AuthTest) -> None:
    _, headers, secret = await with_mfa(t)
    opened = await challenge(t, headers, "totp")
    assert opened["method"] == "totp"
    bad = await t.auth.post(
        STEP_UP, headers=headers, json={"challengeId": opened["challengeId"], "code": "000000"}
    )
    if bad.status_code != 200:  # 000000 might, once in a million, be the code
        assert t.problem(bad, 422, "step-up-code-invalid")["attemptsLeft"] == 4
    code = totp.code(secret)
    granted = await t.auth.post(
        STEP_UP, headers=headers, json={"challengeId": opened["challengeId"], "code": code}
    )
    assert granted.status_code == 200, granted.text
    assert granted.json()["method"] == "totp"
    assert claims(t, granted.json()["stepUpToken"])["method"] == "totp"
    # The same app code cannot serve a second challenge (replay).
    second = await challenge(t, headers, "totp")
    replay = await t.auth.post(
        STEP_UP, headers=headers, json={"challengeId": second["challengeId"], "code": code}
    )
    t.problem(replay, 422, "step-up-code-invalid")


async def test_totp_needs_mfa_on(t: AuthTest) -> None:
    _, headers = await signed_in(t)
    refused = await t.auth.post(
        CHALLENGES, headers=headers, json={"method": "totp", "purpose": purpose()}
    )
    body = t.problem(refused, 409, "mfa-not-enabled")
    assert '"email"' in body["detail"]


async def test_challenges_per_user_are_limited(t: AuthTest) -> None:
    _, headers = await signed_in(t)
    for _ in range(t.settings.step_up_challenges_per_window):
        await challenge(t, headers)
    refused = await t.auth.post(
        CHALLENGES, headers=headers, json={"method": "email", "purpose": purpose()}
    )
    t.problem(refused, 429, "too-many-step-up-challenges")
    assert int(refused.headers["retry-after"]) > 0


async def test_no_mail_no_challenge(t: AuthTest) -> None:
    _, headers = await signed_in(t)
    t.fleet.runtime("auth").peers.mount("notification", httpx.MockTransport(down))
    try:
        refused = await t.auth.post(
            CHALLENGES, headers=headers, json={"method": "email", "purpose": purpose()}
        )
    finally:
        t.notification_up()
    t.problem(refused, 503, "step-up-code-not-sent")


@pytest.mark.parametrize(
    "body",
    [
        {"method": "sms", "purpose": "contract-sign:abc"},
        {"method": "email", "purpose": "delete-account:abc"},
        {"method": "email", "purpose": "contract-sign:"},
        {"method": "email", "purpose": "contract-sign:a/b"},
        {"method": "email"},
        {"purpose": "contract-sign:abc"},
    ],
)
async def test_bad_challenge_requests(t: AuthTest, body: dict[str, Any]) -> None:
    _, headers = await signed_in(t)
    t.problem(await t.auth.post(CHALLENGES, headers=headers, json=body), 422, "invalid-input")


@pytest.mark.parametrize(
    "body",
    [
        {"challengeId": "x" * 43, "code": "12345"},
        {"challengeId": "x" * 43, "code": "12a456"},
        {"challengeId": "short", "code": "123456"},
        {"code": "123456"},
    ],
)
async def test_bad_step_up_requests(t: AuthTest, body: dict[str, Any]) -> None:
    _, headers = await signed_in(t)
    t.problem(await t.auth.post(STEP_UP, headers=headers, json=body), 422, "invalid-input")


async def test_step_up_needs_a_signed_in_user(t: AuthTest) -> None:
    body = {"method": "email", "purpose": purpose()}
    t.problem(await t.auth.post(CHALLENGES, json=body), 401)
    t.problem(
        await t.auth.post(CHALLENGES, json=body, headers=await t.service_headers("signature")),
        401,
    )
    t.problem(await t.auth.post(STEP_UP, json={"challengeId": "x" * 43, "code": "123456"}), 401)
