"""Token checks, against real RSA keys: forgeries of every known kind fail."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mindlinks_kit.auth import STEP_UP_AUDIENCE, JwksKeys, StepUpRequired, TokenVerifier, bearer
from mindlinks_kit.errors import Unauthorized

ISSUER, AUDIENCE = "https://issuer.test", "api"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


PUBLIC = KEY.public_key()


class StaticKeys:
    async def key(self, kid: str) -> Any:
        return PUBLIC if kid == "k1" else None


def make(
    claims: dict[str, Any] | None = None, *, key: Any = KEY, kid: str = "k1", alg: str = "RS256"
) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "u1",
        "iat": now,
        "exp": now + 60,
        "typ": "access",
        "role": "client",
        "sid": "s1",
        **(claims or {}),
    }
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid})


@pytest.fixture
def verifier() -> TokenVerifier:
    return TokenVerifier(StaticKeys(), ISSUER, AUDIENCE)


async def test_a_valid_access_token_gives_its_principal(verifier: TokenVerifier) -> None:
    principal = await verifier.user(make())
    assert (principal.user_id, principal.role, principal.session_id) == ("u1", "client", "s1")


async def test_a_step_up_role_counts_only_with_a_second_factor() -> None:
    """A role the fleet names in ``step_up_roles`` is refused (403) unless the
    token's ``amr`` says the sign-in used more than one factor."""
    verifier = TokenVerifier(StaticKeys(), ISSUER, AUDIENCE, step_up_roles=("admin",))
    for amr in (None, ["pwd"], ["pwd", "otp"], "mfa"):
        claims = {"role": "admin"} | ({"amr": amr} if amr is not None else {})
        with pytest.raises(StepUpRequired) as refused:
            await verifier.user(make(claims))
        assert (refused.value.status, refused.value.code) == (403, "mfa-required")
        assert "second factor" in refused.value.detail
        # The routes where such a user sets a second factor up take it.
        assert (await verifier.user(make(claims), step_up=False)).role == "admin"
    strong = await verifier.user(make({"role": "admin", "amr": ["pwd", "otp", "mfa"]}))
    assert (strong.role, strong.amr, strong.multi_factor) == ("admin", ("pwd", "otp", "mfa"), True)
    # Other roles need no second factor.
    assert (await verifier.user(make({"amr": ["pwd"]}))).multi_factor is False


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _forge_alg_none() -> str:
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "u1",
        "iat": now,
        "exp": now + 60,
        "typ": "access",
        "role": "admin",
    }
    return f"{_b64({'alg': 'none', 'kid': 'k1'})}.{_b64(body)}."


def _forge_hs256_with_public_key() -> str:
    pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64({"alg": "HS256", "kid": "k1", "typ": "JWT"})
    now = int(time.time())
    body = _b64(
        {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "u1",
            "iat": now,
            "exp": now + 60,
            "typ": "access",
            "role": "admin",
        }
    )
    import hashlib
    import hmac

    signature = hmac.new(pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"


def _tampered() -> str:
    header, body, signature = make().split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["role"] = "admin"
    return f"{header}.{_b64(claims)}.{signature}"


@pytest.mark.parametrize(
    ("name", "token"),
    [
        ("alg none", _forge_alg_none()),
        ("HS256 signed with the public key", _forge_hs256_with_public_key()),
        ("unknown kid", make(kid="k2")),
        ("signed by another key under our kid", make(key=OTHER_KEY)),
        ("expired", make({"exp": int(time.time()) - 120, "iat": int(time.time()) - 300})),
        ("wrong audience", make({"aud": "someone-else"})),
        ("wrong issuer", make({"iss": "https://evil.test"})),
        ("tampered payload", _tampered()),
        ("service token used as user token", make({"typ": "service", "aud": AUDIENCE})),
        ("garbage", "not-a-jwt"),
    ],
)
async def test_forged_or_invalid_tokens_are_rejected(
    verifier: TokenVerifier, name: str, token: str
) -> None:
    with pytest.raises(Unauthorized):
        await verifier.user(token)


async def test_service_tokens_need_the_internal_audience(verifier: TokenVerifier) -> None:
    token = make({"typ": "service", "aud": "internal", "sub": "contract"})
    assert await verifier.service(token) == "contract"
    with pytest.raises(Unauthorized):
        await verifier.service(make())  # a user's access token is not a service token


async def test_step_up_tokens_and_access_tokens_never_pass_for_each_other(
    verifier: TokenVerifier,
) -> None:
    step_up = make({"aud": STEP_UP_AUDIENCE, "typ": "step-up", "purpose": "contract-sign:c1"})
    claims = await verifier.claims(step_up, STEP_UP_AUDIENCE)
    assert claims["purpose"] == "contract-sign:c1"
    with pytest.raises(Unauthorized):
        await verifier.user(step_up)  # not an access token...
    with pytest.raises(Unauthorized):
        await verifier.claims(make(), STEP_UP_AUDIENCE)  # ...nor the reverse
    # Even an access-audience token that calls itself step-up opens no route.
    with pytest.raises(Unauthorized):
        await verifier.user(make({"typ": "step-up", "role": None}))


async def test_jwks_cache_refetches_an_unknown_kid_at_most_once_per_interval() -> None:
    fetches = 0
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))

    async def fetch() -> dict[str, Any]:
        nonlocal fetches
        fetches += 1
        return {"keys": [{**jwk, "kid": "k1"}]}

    keys = JwksKeys(fetch, min_refresh=3600)
    assert await keys.key("k1") is not None
    assert await keys.key("k1") is not None
    assert fetches == 1  # cached
    assert await keys.key("rotated") is None  # an unknown kid refetches once…
    assert await keys.key("rotated-again") is None  # …and not again within the interval
    assert fetches == 2


class MutableKeys:
    def __init__(self) -> None:
        self.keys: dict[str, Any] = {"k1": PUBLIC}

    async def key(self, kid: str) -> Any:
        return self.keys.get(kid)


async def test_a_verified_token_is_remembered_not_verified_again(
    verifier: TokenVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = make()
    first = await verifier.user(token)
    decodes = 0
    real = jwt.decode

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal decodes
        decodes += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    assert await verifier.user(token) == first
    assert decodes == 0
    await verifier.user(make({"sub": "u2"}))  # another token is verified
    assert decodes == 1


async def test_a_remembered_token_still_expires(
    verifier: TokenVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = time.time()
    token = make({"exp": int(now) + 5})
    await verifier.user(token)
    monkeypatch.setattr(time, "time", lambda: now + 30)  # past exp and the leeway
    with pytest.raises(Unauthorized) as refused:
        await verifier.user(token)
    assert refused.value.extensions["reason"] == "expired"
    assert refused.value.code == "token-expired"  # what a client refreshes on
    assert 'error="invalid_token"' in refused.value.headers["WWW-Authenticate"]


async def test_a_key_dropped_from_the_jwks_ends_its_remembered_tokens() -> None:
    keys = MutableKeys()
    verifier = TokenVerifier(keys, ISSUER, AUDIENCE)
    token = make()
    await verifier.user(token)
    del keys.keys["k1"]
    with pytest.raises(Unauthorized):
        await verifier.user(token)
    keys.keys["k1"] = OTHER_KEY.public_key()  # the kid now names another key
    with pytest.raises(Unauthorized):
        await verifier.user(token)


async def test_a_remembered_token_is_still_checked_for_revocation(
    verifier: TokenVerifier,
) -> None:
    revoked: set[str] = set()

    async def check(claims: dict[str, Any]) -> bool:
        return claims["sub"] in revoked

    verifier.revocation_checks.append(check)
    token = make()
    await verifier.user(token)
    revoked.add("u1")
    with pytest.raises(Unauthorized) as refused:
        await verifier.user(token)
    assert refused.value.extensions["reason"] == "revoked"


async def test_a_token_remembered_for_one_audience_does_not_pass_another(
    verifier: TokenVerifier,
) -> None:
    token = make()
    await verifier.user(token)
    with pytest.raises(Unauthorized):
        await verifier.service(token)


def test_bearer_parsing() -> None:
    assert bearer("Bearer abc") == "abc"
    assert bearer("bearer  abc ") == "abc"
    assert bearer("Basic abc") is None
    assert bearer("Bearer ") is None
    assert bearer(None) is None
