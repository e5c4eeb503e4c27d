"""Typed calls to the contract service's peers: the client service (companies)
and the contractor service (profiles, engagements, KYC status)."""

from __future__ import annotations

from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from mindlinks_contract.domain import Company, Contractor
from mindlinks_kit.http import Peers, refusal


class _Company(BaseModel):
    """The part of the client service's company we read (tolerant reader)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    legal_name: str = Field(alias="legalName")
    status: str
    owner_user_id: str = Field(alias="ownerUserId")


class _Contractor(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    user_id: str = Field(alias="userId")
    email: str
    kyc_status: str = Field(alias="kycStatus")
    company_ids: list[str] = Field(default_factory=list, alias="companyIds")
    verified_legal_name: str | None = Field(default=None, alias="verifiedLegalName")


def _segment(value: str) -> str:
    return quote(value, safe="")


class Companies:
    """``GET /internal/clients/companies/by-owner/{userId}`` and ``/companies/{id}``."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def _get(self, path: str) -> Company | None:
        response = await self.peers.request("client", "GET", path)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise refusal("client", response)
        company = _Company.model_validate(response.json())
        return Company(
            id=company.id,
            legal_name=company.legal_name,
            status=company.status,
            owner_user_id=company.owner_user_id,
        )

    async def by_owner(self, user_id: str) -> Company | None:
        return await self._get(f"/internal/clients/companies/by-owner/{_segment(user_id)}")

    async def get(self, company_id: str) -> Company | None:
        return await self._get(f"/internal/clients/companies/{_segment(company_id)}")


class Contractors:
    """``GET /internal/contractors/{id}`` and ``/by-user/{userId}``."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def _get(self, path: str) -> Contractor | None:
        response = await self.peers.request("contractor", "GET", path)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise refusal("contractor", response)
        found = _Contractor.model_validate(response.json())
        return Contractor(
            id=found.id,
            user_id=found.user_id,
            email=found.email,
            kyc_status=found.kyc_status,
            company_ids=tuple(found.company_ids),
            verified_legal_name=found.verified_legal_name,
        )

    async def get(self, contractor_id: str) -> Contractor | None:
        return await self._get(f"/internal/contractors/{_segment(contractor_id)}")

    async def by_user(self, user_id: str) -> Contractor | None:
        return await self._get(f"/internal/contractors/by-user/{_segment(user_id)}")
