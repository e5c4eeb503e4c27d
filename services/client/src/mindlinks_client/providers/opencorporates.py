"""The real registry adapter: OpenCorporates API v0.4 over the process's shared
async HTTP client.

``GET {base}/companies/{jurisdiction_code}/{company_number}?api_token=...``
→ ``{"results": {"company": {...}}}``; ``404`` means the registry does not know
the company. ``GET {base}/companies/{j}/{n}/officers?per_page=100&page=N``
→ ``{"results": {"officers": [{"officer": {name, position, end_date,
inactive...}}], "page", "total_pages"}}``, read up to ``OFFICER_PAGES`` pages.
https://api.opencorporates.com/documentation/API-Reference
"""

from __future__ import annotations

from urllib.parse import quote

import httpx
import structlog

from mindlinks_client.providers import (
    Officer,
    RegistryCompany,
    RegistryUnavailable,
    parse_company,
    parse_officers,
)
from mindlinks_kit.breaker import AsyncBreaker, CircuitOpen

log = structlog.get_logger("mindlinks.opencorporates")
OFFICER_PAGES = 3
"""At most 300 officers are read (100 a page): more is a registry oddity, and
a registrant beyond them is held for review, never let through."""


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
        document = await self._get(self.url(jurisdiction_code, company_number), {})
        return parse_company(document) if document is not None else None

    async def officers(
        self, jurisdiction_code: str, company_number: str
    ) -> tuple[Officer, ...] | None:
        """Every page up to ``OFFICER_PAGES``; ``None`` when the registry has
        no officer list for the company (``404``, or an empty list)."""
        url = self.url(jurisdiction_code, company_number) + "/officers"
        found: list[Officer] = []
        for number in range(1, OFFICER_PAGES + 1):
            document = await self._get(url, {"per_page": "100", "page": str(number)})
            if document is None:
                break
            page = parse_officers(document)
            found.extend(page.officers)
            if page.page >= page.total_pages:
                break
        return tuple(found) or None

    async def _get(self, url: str, params: dict[str, str]) -> object | None:
        """The JSON document at ``url``; ``None`` for a ``404``."""

        async def lookup() -> httpx.Response:
            try:
                response = await self.client.get(
                    url, params={**params, **self._params}, timeout=self.timeout
                )
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
            document: object = response.json()
        except ValueError:
            raise RegistryUnavailable("OpenCorporates answered with something not JSON") from None
        return document
