"""Typed calls to the kyc service's peers."""

from __future__ import annotations

from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from mindlinks_kit.http import Peers, refusal
from mindlinks_kyc.domain import Contractor


class _Contractor(BaseModel):
    """The part of the contractor service's answer we read (tolerant reader)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    user_id: str = Field(alias="userId")
    name: str = ""
    email: str = ""
    kyc_status: str | None = Field(default=None, alias="kycStatus")


class ContractorDirectory:
    """The contractor service: ``GET /internal/contractors/by-user/{userId}``."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def by_user(self, user_id: str) -> Contractor | None:
        """The user's contractor profile, or ``None`` when they have none."""
        response = await self.peers.request(
            "contractor", "GET", f"/internal/contractors/by-user/{quote(user_id, safe='')}"
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise refusal("contractor", response)
        found = _Contractor.model_validate(response.json())
        return Contractor(
            id=found.id,
            user_id=found.user_id,
            name=found.name,
            email=found.email,
            kyc_status=found.kyc_status,
        )
