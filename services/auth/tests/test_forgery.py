"""Forged, altered and misused tokens are refused — at auth and at every
service that verifies through the kit with auth's JWKS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mindlinks_kit.auth import JwksKeys, TokenVerifier
from mindlinks_kit.errors import Unauthorized

if TYPE_CHECKING:
    from conftest import AuthTest


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: dict[str, Any]) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


async def valid_claims(t: AuthTest) -> tuple[dict[str, Any], str]:
    user = await t.user()
    token = (await t.login(user))["accessToken"]
    return jwt.decode(token, options={"verify_signature": False}), token


def forgeries(t: AuthTest, claims: dict[str, Any], token: str) -> dict[str, str]:
    keys = t.deps.keys
    kid = keys.active.kid
    public_pem = keys.active.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())
    admin = {**claims, "role": "admin"}

    hs_header = segment({"alg": "HS256", "typ": "JWT", "kid": kid})
    hs_body = segment(admin)
    hs_signature = hmac.new(public_pem, f"{hs_header}.{hs_body}".encode(), hashlib.sha256).digest()

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    header, _, signature = token.split(".")
    return {
        "alg none": f"{segment({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{segment(admin)}.",
        "alg none, no kid": f"{segment({'alg': 'none'})}.{segment(admin)}.",
        "HS256 keyed with the public key": f"{hs_header}.{hs_body}.{b64(hs_signature)}",
        "unknown kid": jwt.encode(
            admin, stranger, algorithm="RS256", headers={"kid": "not-a-key-of-ours"}
        ),
        "right kid, wrong key": jwt.encode(
            admin, stranger, algorithm="RS256", headers={"kid": kid}
        ),
        "expired": jwt.encode(
            {**claims, "iat": now - 3600, "nbf": now - 3600, "exp": now - 120},
            keys.active.private,
            algorithm="RS256",
            headers={"kid": kid},
        ),
        "wrong audience": jwt.encode(
            {**claims, "aud": "someone-else"},
            keys.active.private,
            algorithm="RS256",
            headers={"kid": kid},
        ),
        "wrong issuer": jwt.encode(
            {**claims, "iss": "https://evil.example"},
            keys.active.private,
            algorithm="RS256",
            headers={"kid": kid},
        ),
        "no expiry": jwt.encode(
            {k: v for k, v in claims.items() if k != "exp"},
            keys.active.private,
            algorithm="RS256",
            headers={"kid": kid},
        ),
        "tampered payload": f"{header}.{segment(admin)}.{signature}",
        "tampered signature": f"{header}.{token.split('.')[1]}.{signature[:-4]}AAAA",
        "service token": jwt.encode(
            {**claims, "aud": "internal", "typ": "service"},
            keys.active.private,
            algorithm="RS256",
            headers={"kid": kid},
        ),
        "refresh-typed": jwt.encode(
            {**claims, "typ": "refresh"},
            keys.active.private,
            algorithm="RS256",
            headers={"kid": kid},
        ),
    }


async def test_forged_tokens_are_refused_at_auth(t: AuthTest) -> None:
    claims, token = await valid_claims(t)
    assert (await t.auth.get("/v1/auth/me", headers=t.bearer(token))).status_code == 200
    for name, forged in forgeries(t, claims, token).items():
        response = await t.auth.get("/v1/auth/me", headers=t.bearer(forged))
        assert response.status_code == 401, (name, response.text)
        # Only a genuine token past its time invites a refresh; forgeries do not.
        expected = "token-expired" if name == "expired" else "unauthorized"
        assert response.json()["code"] == expected, name


async def test_forged_tokens_are_refused_by_a_jwks_verifier(t: AuthTest) -> None:
    """What every other service does: the kit's verifier over auth's JWKS."""

    async def fetch() -> dict[str, Any]:
        response = await t.auth.get("/.well-known/jwks.json")
        document: dict[str, Any] = response.json()
        return document

    verifier = TokenVerifier(JwksKeys(fetch), t.settings.jwt_issuer, t.settings.jwt_audience)
    claims, token = await valid_claims(t)
    principal = await verifier.user(token)
    assert principal.user_id == claims["sub"]
    for name, forged in forgeries(t, claims, token).items():
        try:
            await verifier.user(forged)
        except Unauthorized:
            continue
        raise AssertionError(f"{name} was accepted")


async def test_internal_routes_refuse_forged_service_tokens(t: AuthTest) -> None:
    keys = t.deps.keys
    now = int(time.time())
    good = {
        "sub": "admin",
        "aud": "internal",
        "typ": "service",
        "iss": t.settings.jwt_issuer,
        "iat": now,
        "exp": now + 60,
    }
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = [
        jwt.encode(good, stranger, algorithm="RS256", headers={"kid": keys.active.kid}),
        f"{segment({'alg': 'none', 'kid': keys.active.kid})}.{segment(good)}.",
        jwt.encode(
            {**good, "exp": now - 120},
            keys.active.private,
            algorithm="RS256",
            headers={"kid": keys.active.kid},
        ),
    ]
    *forgeries, expired = forged
    for token in forgeries:
        response = await t.auth.post("/internal/auth/keys/rotate", headers=t.bearer(token))
        t.problem(response, 401, "unauthorized")
    response = await t.auth.post("/internal/auth/keys/rotate", headers=t.bearer(expired))
    t.problem(response, 401, "token-expired")  # genuine but late: the caller mints a new one
