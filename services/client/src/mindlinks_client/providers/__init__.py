"""The business registry the client service checks companies against.

``OpenCorporates`` (the real adapter, when an API token is configured) and
``LocalRegistry`` (local mode: answers from the fixtures in ``fixtures.py``
with OpenCorporates' own response shape). Both implement ``CompanyRegistry``
and read answers through ``parse_company``, so they cannot disagree on shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError


class RegistryUnavailable(Exception):
    """The registry could not answer (down, slow, rate-limited, refused our token)."""


@dataclass(frozen=True)
class RegistryCompany:
    """What we keep of a registry record."""

    name: str
    company_number: str
    jurisdiction_code: str
    current_status: str | None
    inactive: bool
    dissolution_date: str | None
    registered_address: str | None


class CompanyRegistry(Protocol):
    async def company(self, jurisdiction_code: str, company_number: str) -> RegistryCompany | None:
        """The registry's record, ``None`` when it does not know the company;
        raises ``RegistryUnavailable`` when it cannot tell."""
        ...


class _Company(BaseModel):
    """OpenCorporates' ``results.company`` (tolerant reader: only what we use)."""

    model_config = ConfigDict(extra="ignore")

    name: str
    company_number: str
    jurisdiction_code: str
    current_status: str | None = None
    inactive: bool | None = None
    dissolution_date: str | None = None
    registered_address_in_full: str | None = None


class _Results(BaseModel):
    model_config = ConfigDict(extra="ignore")
    company: _Company


class _Document(BaseModel):
    model_config = ConfigDict(extra="ignore")
    results: _Results


def parse_company(document: Any) -> RegistryCompany:
    """An OpenCorporates v0.4 company response → ``RegistryCompany``."""
    try:
        company = _Document.model_validate(document).results.company
    except ValidationError as exc:
        raise RegistryUnavailable(f"unexpected registry answer: {exc.errors()[:2]}") from None
    return RegistryCompany(
        name=company.name,
        company_number=company.company_number,
        jurisdiction_code=company.jurisdiction_code,
        current_status=company.current_status,
        inactive=bool(company.inactive),
        dissolution_date=company.dissolution_date,
        registered_address=company.registered_address_in_full,
    )
