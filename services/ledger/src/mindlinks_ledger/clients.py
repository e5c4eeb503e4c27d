"""Typed calls to the ledger's peers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from mindlinks_fleet.events import ContractActivated
from mindlinks_fleet.internal import contract
from mindlinks_kit.errors import PeerRefused
from mindlinks_kit.http import Peers

DEFAULT_REVIEW_DAYS: int = ContractActivated.model_fields["review_days"].default


class ContractView(BaseModel):
    """The part of the contract service's contract the ledger reads."""

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
    review_days: int = DEFAULT_REVIEW_DAYS
    """Days the client has to answer a submission (the contract's terms; issue 15)."""
    notice_days: int = 0
    """Days of notice a termination gives (the contract's terms; issue 15)."""

    def is_party(self, user_id: str) -> bool:
        return user_id in (self.client_user_id, self.contractor_user_id)


class Contracts:
    """The contract service's contract lookup. The caller's user token travels
    beside the service token when there is one (the kit does it)."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def get(self, contract_id: str) -> ContractView | None:
        try:
            found = await self.peers.call(contract.CONTRACT, contract_id)
        except PeerRefused as exc:
            if exc.peer_status == 403:  # not the forwarded user's
                return None
            raise
        return None if found is None else ContractView.model_validate(found.model_dump())
