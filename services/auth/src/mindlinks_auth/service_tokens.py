"""Service credentials: each service proves who it is with its own secret
(Secrets Manager ``service/<name>``) and gets a short-lived service token."""

from __future__ import annotations

import hmac
import time

from botocore.exceptions import ClientError

from mindlinks_kit.aws import Aws
from mindlinks_kit.errors import Unauthorized

_CACHE_SECONDS = 300.0


class ServiceCredentials:
    def __init__(self, aws: Aws) -> None:
        self.aws = aws
        self._cache: dict[str, tuple[str, float]] = {}

    async def _secret(self, service: str) -> str | None:
        cached = self._cache.get(service)
        if cached and time.monotonic() - cached[1] < _CACHE_SECONDS:
            return cached[0]
        try:
            secret = await self.aws.secret(f"service/{service}")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise
        self._cache[service] = (secret, time.monotonic())
        return secret

    async def check(self, service: str, presented: str) -> None:
        expected = await self._secret(service)
        if expected is None or not hmac.compare_digest(expected.encode(), presented.encode()):
            # A rotated secret: drop the cache and compare once more.
            self._cache.pop(service, None)
            expected = await self._secret(service)
            if expected is None or not hmac.compare_digest(expected.encode(), presented.encode()):
                raise Unauthorized("Unknown service credential")
