"""Typed calls to the payment service's peers (tolerant readers: only the
fields we use, unknown ones ignored)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from mindlinks_fleet.internal import contractor
from mindlinks_kit.errors import PeerUnavailable
from mindlinks_kit.http import Peers, refusal
from mindlinks_payment.domain import Contractor, Parties


class _Reader(BaseModel):
    model_config = ConfigDict(extra="ignore", alias_generator=to_camel, populate_by_name=True)


class _ContractParties(_Reader):
    client_company_id: str
    client_user_id: str
    contractor_id: str
    contractor_user_id: str


class _Contract(_Reader):
    id: str
    title: str = ""
    parties: _ContractParties | None = None


def _json(response: Any, peer: str) -> Any:
    if response.status_code != 200:
        raise refusal(peer, response)
    return response.json()


class ContractDirectory:
    """The contract service: ``GET /internal/contracts/{id}``."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def parties(self, contract_id: str) -> Parties | None:
        response = await self.peers.request(
            "contract", "GET", f"/internal/contracts/{quote(contract_id, safe='')}"
        )
        if response.status_code == 404:
            return None
        body = _json(response, "contract")
        try:
            contract = _Contract.model_validate(body)
            # The parties travel either flat on the contract or under "parties".
            parties = contract.parties or _ContractParties.model_validate(body)
        except ValidationError as exc:
            raise PeerUnavailable(
                "contract answered an unreadable contract", peer="contract"
            ) from exc
        return Parties(
            contract_id=contract.id,
            title=contract.title,
            client_company_id=parties.client_company_id,
            client_user_id=parties.client_user_id,
            contractor_id=parties.contractor_id,
            contractor_user_id=parties.contractor_user_id,
        )


class ContractorDirectory:
    """The contractor service's profiles."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def by_user(self, user_id: str) -> Contractor | None:
        found = await self.peers.call(contractor.CONTRACTOR_BY_USER, user_id)
        if found is None:
            return None
        return Contractor(id=found.id, user_id=found.user_id, email=found.email, name=found.name)
