"""The token signing keys: RSA keys with ids, kept in Secrets Manager.

The newest key signs; older keys stay published in the JWKS until every token
they signed has expired, so rotation never logs anyone out. Loading a private
key costs ~40 ms, so keys are loaded once per process and on rotation only.
"""

from __future__ import annotations

import asyncio
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

from mindlinks_kit.auth import ALGORITHM, INTERNAL_AUDIENCE
from mindlinks_kit.aws import Aws

SECRET_NAME = "auth/signing-keys"
KEEP_KEYS = 3
"""Signing keys kept published: the active one and two predecessors."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey
    created_at: float

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(kid=uuid.uuid4().hex[:16],
                   private=rsa.generate_private_key(public_exponent=65537, key_size=2048),
                   created_at=time.time())

    def pem(self) -> str:
        return self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode()

    def jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}


def _load(document: str) -> list[SigningKey]:
    keys = []
    for entry in json.loads(document)["keys"]:
        private = serialization.load_pem_private_key(entry["pem"].encode(), password=None)
        assert isinstance(private, rsa.RSAPrivateKey)
        keys.append(SigningKey(entry["kid"], private, entry["createdAt"]))
    return sorted(keys, key=lambda k: k.created_at, reverse=True)


def _dump(keys: list[SigningKey]) -> str:
    return json.dumps({"keys": [{"kid": k.kid, "pem": k.pem(), "createdAt": k.created_at}
                                for k in keys]})


class KeySet:
    """Signs with the newest key; verifies with any published one."""

    def __init__(self, aws: Aws, issuer: str, audience: str) -> None:
        self.aws = aws
        self.issuer = issuer
        self.audience = audience
        self.keys: list[SigningKey] = []
        self._public: dict[str, Any] = {}

    async def load(self) -> None:
        """Load the keys, creating the first one if this is a new environment."""
        name = self.aws.settings.physical(SECRET_NAME)
        try:
            response = await self.aws.secrets.get_secret_value(SecretId=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            first = await asyncio.to_thread(SigningKey.generate)
            try:
                await self.aws.secrets.create_secret(Name=name, SecretString=_dump([first]))
            except ClientError as race:
                if race.response["Error"]["Code"] != "ResourceExistsException":
                    raise
            response = await self.aws.secrets.get_secret_value(SecretId=name)
        self._install(await asyncio.to_thread(_load, response["SecretString"]))

    def _install(self, keys: list[SigningKey]) -> None:
        self.keys = keys
        self._public = {k.kid: k.private.public_key() for k in keys}

    async def rotate(self) -> SigningKey:
        new = await asyncio.to_thread(SigningKey.generate)
        keys = [new, *self.keys][:KEEP_KEYS]
        await self.aws.secrets.put_secret_value(
            SecretId=self.aws.settings.physical(SECRET_NAME), SecretString=_dump(keys))
        self._install(keys)
        return new

    @property
    def active(self) -> SigningKey:
        return self.keys[0]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.jwk() for k in self.keys]}

    async def key(self, kid: str) -> Any:
        """The kit's ``KeySource``: auth verifies with its own keys, no JWKS fetch."""
        return self._public.get(kid)

    def sign(self, claims: dict[str, Any], ttl_seconds: int) -> tuple[str, float]:
        now = int(time.time())
        expires = now + ttl_seconds
        payload = {"iss": self.issuer, "iat": now, "nbf": now, "exp": expires,
                   "jti": uuid.uuid4().hex, **claims}
        token = jwt.encode(payload, self.active.private, algorithm=ALGORITHM,
                           headers={"kid": self.active.kid})
        return token, float(expires)

    def access_token(self, user_id: str, role: str, session_id: str,
                     ttl_seconds: int) -> tuple[str, float]:
        return self.sign({"sub": user_id, "aud": self.audience, "role": role,
                          "sid": session_id, "typ": "access"}, ttl_seconds)

    def service_token(self, service: str, ttl_seconds: int) -> tuple[str, float]:
        return self.sign({"sub": service, "aud": INTERNAL_AUDIENCE, "typ": "service"},
                         ttl_seconds)
