"""KMS envelope encryption, one data key per record, one AES-256-GCM
ciphertext per field.

``seal``: ``GenerateDataKey`` (AES_256, bound to an encryption context) gives a
plaintext data key and the same key wrapped by KMS; each field is encrypted
with AES-GCM (random 96-bit nonce, the field name and context as associated
data, so a ciphertext cannot be moved to another field or record); the
plaintext key is dropped, only the wrapped key is stored. ``open`` asks KMS to
unwrap the key (with the same context) and decrypts.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

if TYPE_CHECKING:
    from types_aiobotocore_kms import KMSClient

_NONCE_BYTES = 12


@dataclass(frozen=True)
class Sealed:
    key_id: str
    """The KMS key (ARN) that wrapped the data key."""
    encrypted_key: str
    """The data key as KMS wrapped it (base64)."""
    fields: dict[str, str] = field(default_factory=dict)
    """Field name → base64(nonce ‖ AES-GCM ciphertext and tag)."""


def _aad(name: str, context: Mapping[str, str]) -> bytes:
    return json.dumps([name, dict(sorted(context.items()))], separators=(",", ":")).encode()


class Vault:
    def __init__(self, kms: KMSClient, key_id: str) -> None:
        self.kms = kms
        self.key_id = key_id

    async def seal(self, values: Mapping[str, str], context: Mapping[str, str]) -> Sealed:
        generated = await self.kms.generate_data_key(
            KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=dict(context)
        )
        wrapped = base64.b64encode(generated["CiphertextBlob"]).decode()
        key_arn = generated.get("KeyId") or self.key_id
        aes = AESGCM(generated["Plaintext"])
        fields = {}
        for name, value in values.items():
            nonce = os.urandom(_NONCE_BYTES)
            ciphertext = aes.encrypt(nonce, value.encode(), _aad(name, context))
            fields[name] = base64.b64encode(nonce + ciphertext).decode()
        del aes, generated  # no reference to the plaintext data key is kept
        return Sealed(key_id=key_arn, encrypted_key=wrapped, fields=fields)

    async def open(self, sealed: Sealed, context: Mapping[str, str]) -> dict[str, str]:
        unwrapped = await self.kms.decrypt(
            CiphertextBlob=base64.b64decode(sealed.encrypted_key),
            EncryptionContext=dict(context),
            KeyId=sealed.key_id,
        )
        aes = AESGCM(unwrapped["Plaintext"])
        values = {}
        for name, encoded in sealed.fields.items():
            raw = base64.b64decode(encoded)
            nonce, ciphertext = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
            values[name] = aes.decrypt(nonce, ciphertext, _aad(name, context)).decode()
        del aes, unwrapped
        return values
