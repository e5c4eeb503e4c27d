"""Typed calls to the contract service's peers: the client service (companies)
and the contractor service (profiles, engagements, KYC status)."""

from __future__ import annotations

from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from mindlinks_contract.domain import Company, Contractor
from mindlinks_fleet.internal import client
from mindlinks_fleet.internal.client import CompanyRecord
from mindlinks_kit.http import Peers, refusal


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
    """The client service's companies, as the contract service sees them."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def by_owner(self, user_id: str) -> Company | None:
        found = await self.peers.call(client.COMPANY_BY_OWNER, user_id)
        return _company(found)

    async def get(self, company_id: str) -> Company | None:
        found = await self.peers.call(client.COMPANY, company_id)
        return _company(found)


def _company(found: CompanyRecord | None) -> Company | None:
    if found is None:
        return None
    return Company(
        id=found.id,
        legal_name=found.legal_name,
        status=found.status,
        owner_user_id=found.owner_user_id,
    )


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
