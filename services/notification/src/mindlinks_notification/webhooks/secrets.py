"""Endpoint secrets, encrypted with the fleet's data key (KMS) and bound to
their endpoint by the encryption context: a ciphertext copied to another
endpoint's item does not decrypt. A secret is shown once (at creation or
rotation) and never logged; deliveries decrypt it, and keep the plaintext in
this process's memory for a few minutes (an endpoint receives bursts)."""

from __future__ import annotations

import base64
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types_aiobotocore_kms import KMSClient

_KEPT_AT_MOST = 1000


def _context(endpoint_id: str) -> dict[str, str]:
    return {"purpose": "webhook-secret", "endpointId": endpoint_id}


class SecretBox:
    def __init__(self, kms: KMSClient, key_id: str, keep_seconds: float = 300.0) -> None:
        self.kms = kms
        self.key_id = key_id
        self.keep_seconds = keep_seconds
        self._kept: dict[str, tuple[float, str]] = {}

    async def seal(self, endpoint_id: str, secret: str) -> str:
        answer = await self.kms.encrypt(
            KeyId=self.key_id, Plaintext=secret.encode(), EncryptionContext=_context(endpoint_id)
        )
        return base64.b64encode(answer["CiphertextBlob"]).decode()

    async def open(self, endpoint_id: str, ciphertext: str) -> str:
        now = time.monotonic()
        kept = self._kept.get(ciphertext)
        if kept is not None and now - kept[0] < self.keep_seconds:
            return kept[1]
        answer = await self.kms.decrypt(
            CiphertextBlob=base64.b64decode(ciphertext),
            EncryptionContext=_context(endpoint_id),
            KeyId=self.key_id,  # only this key may have sealed it
        )
        secret = answer["Plaintext"].decode()
        if len(self._kept) >= _KEPT_AT_MOST:
            self._kept.clear()
        self._kept[ciphertext] = (now, secret)
        return secret
