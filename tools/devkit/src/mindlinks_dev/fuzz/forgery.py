"""What the attacks forge with: tokens (with auth's real signing key, read
from the embedded Secrets Manager as a thief with the key store would not
even need to, so a refusal proves the claim check and not a bad signature)
and provider webhooks signed the way Stripe, Veriff and Onfido sign them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mindlinks_dev.bootstrap import LOCAL_CREDENTIALS

STRIPE_SECRET = "whsec_local_development_only"  # noqa: S105 - payment's local default
KYC_LOCAL_SECRET = "local-kyc-webhook-secret"  # noqa: S105 - kyc's local default
KYC_LOCAL_CLIENT = "local-kyc-client"
"""What the local Veriff-format provider sends as ``X-AUTH-CLIENT``."""


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: Mapping[str, Any]) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, claims: Mapping[str, Any]) -> str:
        return jwt.encode(dict(claims), self.private, algorithm="RS256", headers={"kid": self.kid})


def signing_key(state: Mapping[str, Any]) -> SigningKey:
    """Auth's newest signing key, from the fleet's embedded Secrets Manager."""
    aws = state["aws"]
    secrets = boto3.client(
        "secretsmanager", endpoint_url=aws["endpoint"], region_name="eu-west-1", **LOCAL_CREDENTIALS
    )
    document = secrets.get_secret_value(SecretId=f"{aws['prefix']}auth/signing-keys")
    newest = max(json.loads(document["SecretString"])["keys"], key=lambda k: k["createdAt"])
    private = serialization.load_pem_private_key(newest["pem"].encode(), password=None)
    if not isinstance(private, rsa.RSAPrivateKey):
        raise TypeError("auth's signing key is not RSA")
    return SigningKey(newest["kid"], private)


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def forged_tokens(key: SigningKey, token: str) -> dict[str, str]:
    """A valid client ``token`` turned into an admin's, each way an attacker
    would try; every one must be refused everywhere."""
    claims = claims_of(token)
    admin = {**claims, "role": "admin", "amr": ["pwd", "otp", "mfa"]}
    now = int(time.time())
    hs_header = segment({"alg": "HS256", "typ": "JWT", "kid": key.kid})
    hs_body = segment(admin)
    hs_mac = hmac.new(key.public_pem, f"{hs_header}.{hs_body}".encode(), hashlib.sha256).digest()
    header, _, signature = token.split(".")
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "alg none": f"{segment({'alg': 'none', 'typ': 'JWT', 'kid': key.kid})}.{segment(admin)}.",
        "algorithm confusion (HS256 keyed with the public key)": (
            f"{hs_header}.{hs_body}.{b64(hs_mac)}"
        ),
        "expired": key.sign({**claims, "iat": now - 3600, "nbf": now - 3600, "exp": now - 120}),
        "wrong audience": key.sign({**claims, "aud": "someone-else"}),
        "wrong issuer": key.sign({**claims, "iss": "https://evil.example"}),
        "tampered claims": f"{header}.{segment(admin)}.{signature}",
        "right kid, another key": jwt.encode(
            admin, stranger, algorithm="RS256", headers={"kid": key.kid}
        ),
    }


# Stripe: ``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">``.


def stripe_event(intent_id: str, amount: int, currency: str) -> bytes:
    event = {
        "id": f"evt_fuzz_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": intent_id,
                "object": "payment_intent",
                "amount": amount,
                "currency": currency.lower(),
                "status": "succeeded",
                "latest_charge": f"ch_fuzz_{uuid.uuid4().hex[:16]}",
                "metadata": {},
            }
        },
    }
    return json.dumps(event, separators=(",", ":")).encode()


def stripe_signature(body: bytes, secret: str = STRIPE_SECRET, at: float | None = None) -> str:
    timestamp = int(time.time() if at is None else at)
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


# Veriff: ``X-AUTH-CLIENT`` and ``X-HMAC-SIGNATURE`` (hex HMAC-SHA256 of the body).


def veriff_decision(provider_session_id: str, status: str, decided_at: str) -> bytes:
    body = {
        "status": "success",
        "verification": {
            "id": provider_session_id,
            "attemptId": uuid.uuid4().hex,
            "status": status,
            "code": 9001 if status == "approved" else 9102,
            "reason": None,
            "decisionTime": decided_at,
            "acceptanceTime": decided_at,
            "person": {"firstName": "Pat", "lastName": "Pending"},
        },
    }
    return json.dumps(body, separators=(",", ":")).encode()


def veriff_headers(body: bytes, secret: str = KYC_LOCAL_SECRET) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "x-auth-client": KYC_LOCAL_CLIENT,
        "x-hmac-signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }


# Onfido: ``X-SHA2-Signature`` (hex HMAC-SHA256 of the body with the webhook token).


def onfido_decision(run_id: str, completed_at: str) -> bytes:
    body = {
        "payload": {
            "resource_type": "workflow_run",
            "action": "workflow_run.completed",
            "object": {
                "id": run_id,
                "status": "approved",
                "completed_at_iso8601": completed_at,
                "href": f"https://api.eu.onfido.com/v3.6/workflow_runs/{run_id}",
            },
        }
    }
    return json.dumps(body, separators=(",", ":")).encode()


def onfido_headers(body: bytes, token: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "x-sha2-signature": hmac.new(token.encode(), body, hashlib.sha256).hexdigest(),
    }
