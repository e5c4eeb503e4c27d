"""The local registry: OpenCorporates' answers for a handful of companies,
in OpenCorporates' own response shape, read through the same parser as the
real adapter. Used in local mode when no API token is configured.

| jurisdiction / number | name | answer |
|---|---|---|
| `gb/ML` + six digits | MINDLINKS LOCAL <digits> LTD | active, no officer list |
| `gb/12345678` | Acme Widgets Ltd | active, officers below |
| `gb/11223344` | Bright Consulting Limited | active ("Bright Consulting Ltd" matches) |
| `us_de/7654321` | Globex Corporation | active, no officer list |
| `gb/87654321` | Old Gadgets Ltd | dissolved → `422 company-inactive` |
| `gb/55667788` | Northwind Traders Ltd | in liquidation → `422 company-inactive` |
| `gb/99999999` | — | the registry is down → `pending_review` |
| anything else | — | unknown → `422 company-not-found` |

A name mismatch (→ `pending_review`, `nameMismatch: true`) is any of these
registered under another name. Officers (``OFFICERS``): `gb/12345678` LOVELACE,
Augusta Ada (director), BABBAGE, Charles (secretary), MOSES, Robert (resigned);
`gb/11223344` HOPPER, Grace Brewster (director); the others list none, so for
them (the `gb/ML` numbers among them) whoever registers first is accepted.
"""

from __future__ import annotations

import re
import zlib
from typing import Any

from mindlinks_client.providers import (
    Officer,
    RegistryCompany,
    RegistryUnavailable,
    parse_company,
    parse_officers,
)

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


def _officer(name: str, position: str, end_date: str | None = None) -> dict[str, Any]:
    return {
        "officer": {
            "id": zlib.crc32(name.encode()),
            "name": name,
            "position": position,
            "uid": None,
            "start_date": "2015-03-02",
            "end_date": end_date,
            "occupation": "DIRECTOR",
            "inactive": end_date is not None,
            "current_status": None,
            "nationality": "BRITISH",
        }
    }


def _officers(*officers: dict[str, Any]) -> dict[str, Any]:
    return {
        "api_version": "0.4",
        "results": {
            "page": 1,
            "per_page": 100,
            "total_pages": 1,
            "total_count": len(officers),
            "officers": list(officers),
        },
    }


OFFICERS: dict[tuple[str, str], dict[str, Any]] = {
    ("gb", "12345678"): _officers(
        _officer("LOVELACE, Augusta Ada", "director"),
        _officer("BABBAGE, Charles", "secretary"),
        _officer("MOSES, Robert", "director", end_date="2019-01-31"),
    ),
    ("gb", "11223344"): _officers(_officer("HOPPER, Grace Brewster", "director")),
}
"""Officer lists in OpenCorporates' shape; a company without one here gives none
(as OpenCorporates gives none for many jurisdictions, e.g. Delaware)."""

LOCAL_NUMBER = re.compile(r"^ML(\d{6})$")
"""``gb/ML`` + six digits: any number of distinct active companies for the
demo, tests and scripts against one running fleet."""


class LocalRegistry:
    """Answers like OpenCorporates would, from ``FIXTURES`` and ``OFFICERS``,
    and for every ``gb/ML`` + six digits number."""

    async def company(self, jurisdiction_code: str, company_number: str) -> RegistryCompany | None:
        key = (jurisdiction_code.lower(), company_number.upper())
        if key in UNAVAILABLE:
            raise RegistryUnavailable("the local registry simulates an outage for this number")
        local = LOCAL_NUMBER.match(key[1]) if key[0] == "gb" else None
        if local is not None:
            name = f"MINDLINKS LOCAL {local.group(1)} LTD"
            return parse_company(_company("gb", key[1], name, incorporation_date="2024-01-15"))
        document = FIXTURES.get(key)
        return parse_company(document) if document is not None else None

    async def officers(
        self, jurisdiction_code: str, company_number: str
    ) -> tuple[Officer, ...] | None:
        document = OFFICERS.get((jurisdiction_code.lower(), company_number.upper()))
        return parse_officers(document).officers if document is not None else None
