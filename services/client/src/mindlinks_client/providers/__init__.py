"""The business registry the client service checks companies against.

``OpenCorporates`` (the real adapter, when an API token is configured) and
``LocalRegistry`` (local mode: answers from the fixtures in ``fixtures.py``
with OpenCorporates' own response shape). Both implement ``CompanyRegistry``
and read answers through ``parse_company`` and ``parse_officers``, so they
cannot disagree on shape.
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


@dataclass(frozen=True)
class Officer:
    """One of a company's officers as the registry lists them (OpenCorporates
    writes British ones ``SURNAME, Given Names``)."""

    name: str
    position: str | None
    end_date: str | None = None
    inactive: bool = False

    @property
    def current(self) -> bool:
        return not self.inactive and not self.end_date


class CompanyRegistry(Protocol):
    async def company(self, jurisdiction_code: str, company_number: str) -> RegistryCompany | None:
        """The registry's record, ``None`` when it does not know the company;
        raises ``RegistryUnavailable`` when it cannot tell."""
        ...

    async def officers(
        self, jurisdiction_code: str, company_number: str
    ) -> tuple[Officer, ...] | None:
        """The company's officers, current and former; ``None`` when the
        registry gives no officer list for it. Raises ``RegistryUnavailable``."""
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


class _Officer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    position: str | None = None
    end_date: str | None = None
    inactive: bool | None = None


class _OfficerItem(BaseModel):
    model_config = ConfigDict(extra="ignore")
    officer: _Officer


class _OfficerResults(BaseModel):
    model_config = ConfigDict(extra="ignore")
    officers: list[_OfficerItem]
    page: int = 1
    total_pages: int = 1


class _OfficerDocument(BaseModel):
    model_config = ConfigDict(extra="ignore")
    results: _OfficerResults


@dataclass(frozen=True)
class OfficerPage:
    officers: tuple[Officer, ...]
    page: int
    total_pages: int


def parse_officers(document: Any) -> OfficerPage:
    """One page of an OpenCorporates v0.4 ``/companies/{j}/{n}/officers``
    response (``{"results": {"officers": [{"officer": {...}}], "page",
    "total_pages"}}``)."""
    try:
        results = _OfficerDocument.model_validate(document).results
    except ValidationError as exc:
        raise RegistryUnavailable(f"unexpected officer list: {exc.errors()[:2]}") from None
    return OfficerPage(
        officers=tuple(
            Officer(
                name=item.officer.name,
                position=item.officer.position,
                end_date=item.officer.end_date,
                inactive=bool(item.officer.inactive),
            )
            for item in results.officers
        ),
        page=results.page,
        total_pages=results.total_pages,
    )
