"""The local registry: OpenCorporates' answers for a handful of companies,
in OpenCorporates' own response shape, read through the same parser as the
real adapter. Used in local mode when no API token is configured.

| jurisdiction / number | name | answer |
|---|---|---|
| `gb/12345678` | Acme Widgets Ltd | active |
| `gb/11223344` | Bright Consulting Limited | active ("Bright Consulting Ltd" matches) |
| `us_de/7654321` | Globex Corporation | active |
| `gb/87654321` | Old Gadgets Ltd | dissolved → `422 company-inactive` |
| `gb/55667788` | Northwind Traders Ltd | in liquidation → `422 company-inactive` |
| `gb/99999999` | — | the registry is down → `pending_review` |
| anything else | — | unknown → `422 company-not-found` |

A name mismatch (→ `pending_review`, `nameMismatch: true`) is any of these
registered under another name.
"""

from __future__ import annotations

from typing import Any

from mindlinks_client.providers import RegistryCompany, RegistryUnavailable, parse_company

UNAVAILABLE = frozenset({("gb", "99999999")})
"""Lookups that behave like a registry outage."""


def _company(
    jurisdiction_code: str,
    company_number: str,
    name: str,
    *,
    status: str = "Active",
    inactive: bool = False,
    dissolution_date: str | None = None,
    incorporation_date: str = "2015-03-02",
    address: str = "1 Example Street, London, EC1A 1AA",
) -> dict[str, Any]:
    return {
        "api_version": "0.4",
        "results": {
            "company": {
                "name": name,
                "company_number": company_number,
                "jurisdiction_code": jurisdiction_code,
                "incorporation_date": incorporation_date,
                "dissolution_date": dissolution_date,
                "company_type": "Private Limited Company",
                "registry_url": f"https://registry.example/{jurisdiction_code}/{company_number}",
                "current_status": status,
                "inactive": inactive,
                "registered_address_in_full": address,
                "opencorporates_url": (
                    f"https://opencorporates.com/companies/{jurisdiction_code}/{company_number}"
                ),
            }
        },
    }


FIXTURES: dict[tuple[str, str], dict[str, Any]] = {
    ("gb", "12345678"): _company("gb", "12345678", "ACME WIDGETS LTD"),
    ("gb", "11223344"): _company(
        "gb",
        "11223344",
        "BRIGHT CONSULTING LIMITED",
        address="22 Harbour Road, Bristol, BS1 5TT",
    ),
    ("us_de", "7654321"): _company(
        "us_de",
        "7654321",
        "GLOBEX CORPORATION",
        status="Good Standing",
        address="1209 Orange Street, Wilmington, DE 19801",
    ),
    ("gb", "87654321"): _company(
        "gb",
        "87654321",
        "OLD GADGETS LTD",
        status="Dissolved",
        inactive=True,
        dissolution_date="2021-06-30",
    ),
    ("gb", "55667788"): _company(
        "gb", "55667788", "NORTHWIND TRADERS LTD", status="Liquidation", inactive=False
    ),
}


class LocalRegistry:
    """Answers like OpenCorporates would, from ``FIXTURES``."""

    async def company(self, jurisdiction_code: str, company_number: str) -> RegistryCompany | None:
        key = (jurisdiction_code.lower(), company_number.upper())
        if key in UNAVAILABLE:
            raise RegistryUnavailable("the local registry simulates an outage for this number")
        document = FIXTURES.get(key)
        return parse_company(document) if document is not None else None
