"""TOTP second factor (RFC 6238 via pyotp). Secrets are stored encrypted with
the fleet's data key in KMS, bound to the user by the encryption context."""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING

import pyotp

from mindlinks_auth.tokens import Flags
from mindlinks_kit.errors import Conflict, InvalidInput, Unauthorized

if TYPE_CHECKING:
    from types_aiobotocore_kms import KMSClient

_CODE = re.compile(r"^\d{6}$")
CODE_REUSE_SECONDS = 90
"""A code verified once is refused for the rest of its validity (±1 step)."""


class MfaRequired(Unauthorized):
    code = "mfa-required"
    title = "A one-time code from your authenticator app is required"


class MfaInvalid(Unauthorized):
    code = "mfa-invalid"
    title = "The one-time code is not valid"


class MfaCodeRejected(InvalidInput):
    code = "mfa-code-invalid"
    title = "The one-time code is not valid"


class MfaAlreadyEnabled(Conflict):
    code = "mfa-already-enabled"
    title = "Two-factor authentication is already enabled"


class MfaNotPending(Conflict):
    code = "mfa-not-pending"
    title = "Start the two-factor setup first"


class MfaNotEnabled(Conflict):
    code = "mfa-not-enabled"
    title = "Two-factor authentication is not enabled"


class MfaSecretInvalid(InvalidInput):
    code = "mfa-secret-invalid"
    title = "The TOTP secret must be base32 with at least 128 bits"


_SECRET = re.compile(r"^[A-Z2-7]{26,}$")


def new_secret() -> str:
    return pyotp.random_base32()


def valid_secret(secret: str) -> bool:
    """Base32 of at least 128 bits (RFC 4226 asks for 128, recommends 160)."""
    return bool(_SECRET.match(secret))


def provisioning_uri(secret: str, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def code_matches(secret: str, code: str | None) -> bool:
    """The current code, or the one of the step before or after (clock drift)."""
    return bool(code and _CODE.match(code) and pyotp.TOTP(secret).verify(code, valid_window=1))


async def spend_code(flags: Flags, user_id: str, secret: str, code: str | None) -> bool:
    """Accept a valid code once: a code seen before is refused (replay)."""
    return code_matches(secret, code) and await flags.set_once(
        f"totp:{user_id}:{code}", CODE_REUSE_SECONDS
    )


class SecretBox:
    """KMS encryption of TOTP secrets, bound to the user they belong to."""

    def __init__(self, kms: KMSClient, key_id: str) -> None:
        self.kms = kms
        self.key_id = key_id

    async def seal(self, user_id: str, secret: str) -> str:
        response = await self.kms.encrypt(
            KeyId=self.key_id, Plaintext=secret.encode(), EncryptionContext=_context(user_id)
        )
        return base64.b64encode(response["CiphertextBlob"]).decode()

    async def open(self, user_id: str, sealed: str) -> str:
        response = await self.kms.decrypt(
            CiphertextBlob=base64.b64decode(sealed),
            KeyId=self.key_id,
            EncryptionContext=_context(user_id),
        )
        return response["Plaintext"].decode()


def _context(user_id: str) -> dict[str, str]:
    return {"service": "auth", "purpose": "totp", "userId": user_id}
