"""The real registry adapter: OpenCorporates API v0.4 over the process's shared
async HTTP client.

``GET {base}/companies/{jurisdiction_code}/{company_number}?api_token=...``
→ ``{"results": {"company": {...}}}``; ``404`` means the registry does not know
the company. https://api.opencorporates.com/documentation/API-Reference
"""

from __future__ import annotations

from urllib.parse import quote

import httpx
import structlog

from mindlinks_client.providers import RegistryCompany, RegistryUnavailable, parse_company
from mindlinks_kit.http import AsyncBreaker, CircuitOpen

log = structlog.get_logger("mindlinks.opencorporates")


class _Outage(Exception):
    """Transport failure, 5xx or rate limit: counts against the breaker."""


class OpenCorporates:
    """One lookup per registration, with a deadline and a circuit breaker; a
    registry that cannot answer is reported, never guessed at (the caller
    sends the company to manual review)."""

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        api_token: str,
        base_url: str = "https://api.opencorporates.com/v0.4",
        timeout: float = 5.0,
        fail_max: int = 5,
        reset_timeout: float = 30.0,
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._params = {"api_token": api_token}
        self.breaker = AsyncBreaker("opencorporates", fail_max, reset_timeout)

    def url(self, jurisdiction_code: str, company_number: str) -> str:
        return (
            f"{self.base_url}/companies/{quote(jurisdiction_code, safe='')}"
            f"/{quote(company_number, safe='')}"
        )

    async def company(self, jurisdiction_code: str, company_number: str) -> RegistryCompany | None:
        url = self.url(jurisdiction_code, company_number)

        async def lookup() -> httpx.Response:
            try:
                response = await self.client.get(url, params=self._params, timeout=self.timeout)
            except httpx.HTTPError as exc:
                raise _Outage(type(exc).__name__) from exc
            if response.status_code >= 500 or response.status_code == 429:
                raise _Outage(f"status {response.status_code}")
            return response

        try:
            response = await self.breaker.call(lookup)
        except CircuitOpen:
            raise RegistryUnavailable("OpenCorporates is unavailable (circuit open)") from None
        except _Outage as exc:
            log.warning("opencorporates.unavailable", reason=str(exc))
            raise RegistryUnavailable(f"OpenCorporates is unavailable ({exc})") from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            # 401/403: our token is wrong or over quota — an operator must look.
            log.error("opencorporates.refused", status=response.status_code)
            raise RegistryUnavailable(f"OpenCorporates refused the lookup ({response.status_code})")
        try:
            document = response.json()
        except ValueError:
            raise RegistryUnavailable("OpenCorporates answered with something not JSON") from None
        return parse_company(document)
