"""Typed calls to the ledger's peers."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from mindlinks_kit.errors import PeerUnavailable
from mindlinks_kit.http import Peers, refusal


class ContractView(BaseModel):
    """The part of the contract service's contract the ledger reads (tolerant reader)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    id: str
    status: str
    title: str = ""
    currency: str = ""
    terms: dict[str, Any] | None = None
    pdf_sha256: str | None = None
    final_pdf_sha256: str | None = None
    client_company_id: str
    client_user_id: str
    contractor_id: str
    contractor_user_id: str
    client_name: str = ""
    """The client company's legal name, as the contract names it."""
    contractor_name: str = ""
    """The contractor's KYC-verified legal name, as the contract names it."""

    def is_party(self, user_id: str) -> bool:
        return user_id in (self.client_user_id, self.contractor_user_id)


class Contracts:
    """The contract service: ``GET /internal/contracts/{id}``. The caller's user
    token travels beside the service token when there is one (the kit does it)."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def get(self, contract_id: str) -> ContractView | None:
        response = await self.peers.request(
            "contract", "GET", f"/internal/contracts/{quote(contract_id, safe='')}"
        )
        if response.status_code in (403, 404):  # unknown, or not the forwarded user's
            return None
        if response.status_code != 200:
            raise refusal("contract", response)
        try:
            return ContractView.model_validate(response.json())
        except (ValueError, ValidationError):
            raise PeerUnavailable(
                "contract answered an unreadable contract", peer="contract"
            ) from None
