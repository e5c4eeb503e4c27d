"""One guarded HTTP call to a provider: the process's shared httpx client, a
deadline, a circuit breaker per provider, and provider errors as a 502 problem.

Creating a session is not idempotent at either provider, so there is exactly
one attempt; the contractor retries (with the same ``Idempotency-Key``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx
import structlog

from mindlinks_kit.breaker import AsyncBreaker, CircuitOpen
from mindlinks_kyc.providers import ProviderFailed

log = structlog.get_logger("mindlinks.kyc.providers")
Describe = Callable[[httpx.Response], str]


class _Unavailable(Exception):
    """Transport failure or 5xx: counts against the breaker."""


async def call(
    client: httpx.AsyncClient,
    breaker: AsyncBreaker,
    method: str,
    url: str,
    *,
    provider: str,
    headers: Mapping[str, str],
    json: Any,
    timeout: float,
    describe: Describe,
) -> dict[str, Any]:
    """The JSON object a 2xx answer carries; ``ProviderFailed`` otherwise."""

    async def once() -> httpx.Response:
        try:
            response = await client.request(
                method, url, json=json, headers=dict(headers), timeout=timeout
            )
        except httpx.HTTPError as exc:
            raise _Unavailable(type(exc).__name__) from exc
        if response.status_code >= 500:
            raise _Unavailable(f"status {response.status_code}: {describe(response)}")
        return response

    try:
        response = await breaker.call(once)
    except CircuitOpen:
        raise ProviderFailed(
            f"{provider} is unavailable (circuit open)", provider=provider
        ) from None
    except _Unavailable as exc:
        log.warning("kyc.provider_unavailable", provider=provider, reason=str(exc))
        raise ProviderFailed(f"{provider} is unavailable ({exc})", provider=provider) from None
    if response.status_code >= 400:
        reason = describe(response)
        log.warning(
            "kyc.provider_rejected", provider=provider, status=response.status_code, reason=reason
        )
        raise ProviderFailed(
            f"{provider} refused the request ({response.status_code}): {reason}",
            provider=provider,
            providerStatus=response.status_code,
        )
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ProviderFailed(f"{provider} answered with no JSON object", provider=provider)
    return body


def field(body: Any, *path: str) -> Any:
    """``body[path[0]][path[1]]...`` or ``None`` (tolerant reader)."""
    for name in path:
        if not isinstance(body, dict):
            return None
        body = body.get(name)
    return body
