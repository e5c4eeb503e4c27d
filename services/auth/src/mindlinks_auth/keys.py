"""The token signing keys: RSA keys with ids, kept in Secrets Manager.

A new key is published at once and signs only after ``activation_seconds``
(so every verifier knows it before any token carries it); older keys stay
published until every token they signed has expired, so rotation never logs
anyone out. Loading a private
key costs ~40 ms, so a process parses the secret only when its version
changed: it re-reads it when its copy is older than ``reload_seconds`` (before
signing or serving the JWKS) and when it meets a key id it does not know — so
a rotation done by one auth process reaches the others within seconds.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from mindlinks_fleet.step_up import STEP_UP_AUDIENCE, STEP_UP_TYPE
from mindlinks_kit.auth import ALGORITHM, INTERNAL_AUDIENCE
from mindlinks_kit.aws import Aws

SECRET_NAME = "auth/signing-keys"  # noqa: S105 - the name of a secret
MAX_KEYS = 5
"""At most this many keys are published, however often keys are rotated."""
UNKNOWN_KID_RELOAD_SECONDS = 5.0
"""An unknown key id re-reads the secret at most this often (forged ids cannot
turn into a stream of Secrets Manager calls)."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey
    created_at: float

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(
            kid=uuid.uuid4().hex[:16],
            private=rsa.generate_private_key(public_exponent=65537, key_size=2048),
            created_at=time.time(),
        )

    def pem(self) -> str:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    def jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}


def _load(document: str, known: dict[str, SigningKey]) -> list[SigningKey]:
    """Parse the stored keys (newest first), reusing the ones already parsed."""
    keys = []
    for entry in json.loads(document)["keys"]:
        key = known.get(entry["kid"])
        if key is None:
            private = serialization.load_pem_private_key(entry["pem"].encode(), password=None)
            assert isinstance(private, rsa.RSAPrivateKey)
            key = SigningKey(entry["kid"], private, entry["createdAt"])
        keys.append(key)
    return sorted(keys, key=lambda k: k.created_at, reverse=True)


def _dump(keys: list[SigningKey]) -> str:
    return json.dumps(
        {"keys": [{"kid": k.kid, "pem": k.pem(), "createdAt": k.created_at} for k in keys]}
    )


def retained(
    keys: list[SigningKey], now: float, grace_seconds: float, activation_seconds: float = 0.0
) -> list[SigningKey]:
    """Keys (newest first) still needed: the newest, and every older one whose
    successor started signing less than ``grace_seconds`` ago (or not yet)."""
    kept = keys[:1]
    for successor, key in itertools.pairwise(keys):
        if now - (successor.created_at + activation_seconds) < grace_seconds:
            kept.append(key)
    return kept[:MAX_KEYS]


def signing_key(keys: list[SigningKey], now: float, activation_seconds: float) -> SigningKey:
    """The newest key (of ``keys``, newest first) that is old enough to sign."""
    for key in keys:
        if key.created_at + activation_seconds <= now:
            return key
    return keys[-1]


class KeySet:
    """Signs with the newest key; verifies with any published one."""

    def __init__(
        self,
        aws: Aws,
        issuer: str,
        audience: str,
        *,
        grace_seconds: float,
        reload_seconds: float = 30.0,
        activation_seconds: float = 0.0,
    ) -> None:
        self.aws = aws
        self.issuer = issuer
        self.audience = audience
        self.grace_seconds = grace_seconds
        """How long a superseded key stays published: the longest token lifetime
        plus the verifiers' leeway."""
        self.reload_seconds = reload_seconds
        self.activation_seconds = activation_seconds
        """A new key is published at once but signs only this much later, when
        every verifier can have seen it (no token with an unknown ``kid``)."""
        self.keys: list[SigningKey] = []
        self._public: dict[str, Any] = {}
        self._version: str | None = None
        self._checked_at = float("-inf")
        self._unknown_reload_at = float("-inf")
        self._lock = asyncio.Lock()

    @property
    def _name(self) -> str:
        return self.aws.settings.physical(SECRET_NAME)

    async def load(self) -> None:
        """Load the keys. The secret and its first key are the platform's
        (Terraform, or the local bootstrap): the role may not create secrets."""
        try:
            response = await self.aws.secrets.get_secret_value(SecretId=self._name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                raise RuntimeError(
                    f"the signing keys secret {self._name} does not exist: "
                    "Terraform's security module or the local bootstrap creates it"
                ) from exc
            raise
        await self._install(response["SecretString"], response.get("VersionId"))

    async def _install(self, document: str, version: str | None) -> None:
        self._checked_at = time.monotonic()
        if version is not None and version == self._version:
            return
        self._use(await asyncio.to_thread(_load, document, self._known()), version)

    def _known(self) -> dict[str, SigningKey]:
        return {k.kid: k for k in self.keys}

    def _use(self, keys: list[SigningKey], version: str | None) -> None:
        self.keys = keys
        self._public = {k.kid: k.private.public_key() for k in keys}
        self._version = version

    async def reload(self, older_than: float = 0.0) -> None:
        """Re-read the secret if this copy was checked more than ``older_than`` ago."""
        if time.monotonic() - self._checked_at < older_than:
            return
        requested = time.monotonic()
        async with self._lock:
            if self._checked_at > requested or time.monotonic() - self._checked_at < older_than:
                return  # someone re-read it while we waited
            response = await self.aws.secrets.get_secret_value(SecretId=self._name)
            await self._install(response["SecretString"], response.get("VersionId"))

    async def fresh(self) -> KeySet:
        """This key set, re-read first when it may be stale."""
        await self.reload(older_than=self.reload_seconds)
        return self

    async def rotate(self) -> SigningKey:
        """A new key: published now, signing after ``activation_seconds``; the
        key it supersedes stays published ``grace_seconds`` beyond that."""
        new = await asyncio.to_thread(SigningKey.generate)
        async with self._lock:
            response = await self.aws.secrets.get_secret_value(SecretId=self._name)
            current = await asyncio.to_thread(_load, response["SecretString"], self._known())
            keys = retained(
                [new, *current], time.time(), self.grace_seconds, self.activation_seconds
            )
            stored = await self.aws.secrets.put_secret_value(
                SecretId=self._name, SecretString=_dump(keys)
            )
            self._use(keys, stored.get("VersionId"))
            self._checked_at = time.monotonic()
        return new

    @property
    def active(self) -> SigningKey:
        """The key that signs now."""
        return signing_key(self.keys, time.time(), self.activation_seconds)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.jwk() for k in self.keys]}

    async def key(self, kid: str) -> Any:
        """The kit's ``KeySource``: auth verifies with its own keys, no JWKS fetch;
        a key id it does not know may come from a rotation in another process."""
        if kid not in self._public:
            now = time.monotonic()
            if now - self._unknown_reload_at >= UNKNOWN_KID_RELOAD_SECONDS:
                self._unknown_reload_at = now
                await self.reload()
        return self._public.get(kid)

    def sign(self, claims: dict[str, Any], ttl_seconds: int) -> tuple[str, float]:
        now = int(time.time())
        expires = now + ttl_seconds
        payload = {
            "iss": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": expires,
            "jti": uuid.uuid4().hex,
            **claims,
        }
        token = jwt.encode(
            payload, self.active.private, algorithm=ALGORITHM, headers={"kid": self.active.kid}
        )
        return token, float(expires)

    def access_token(
        self,
        user_id: str,
        role: str,
        session_id: str,
        ttl_seconds: int,
        amr: tuple[str, ...] = ("pwd",),
    ) -> tuple[str, float]:
        return self.sign(
            {
                "sub": user_id,
                "aud": self.audience,
                "role": role,
                "sid": session_id,
                "amr": list(amr),
                "typ": "access",
            },
            ttl_seconds,
        )

    def service_token(self, service: str, ttl_seconds: int) -> tuple[str, float]:
        return self.sign({"sub": service, "aud": INTERNAL_AUDIENCE, "typ": "service"}, ttl_seconds)

    def step_up_token(
        self,
        user_id: str,
        session_id: str | None,
        purpose: str,
        method: str,
        verified_at: int,
        ttl_seconds: int,
    ) -> tuple[str, float]:
        """A proof that ``user_id`` confirmed a one-time code (``method``) at
        ``verified_at`` for ``purpose`` only. Its audience is never an access
        token's, so no route takes it as one (nor an access token for it)."""
        claims = {
            "sub": user_id,
            "aud": STEP_UP_AUDIENCE,
            "typ": STEP_UP_TYPE,
            "purpose": purpose,
            "method": method,
            "amr": ["otp"],
            "auth_time": verified_at,
        }
        if session_id is not None:
            claims["sid"] = session_id  # ending the session ends the proof too
        return self.sign(claims, ttl_seconds)
