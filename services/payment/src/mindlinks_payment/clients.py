"""Typed calls to the payment service's peers (tolerant readers: only the
fields we use, unknown ones ignored)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from mindlinks_fleet.internal import contract
from mindlinks_kit.declaration import Lookup
from mindlinks_kit.errors import PeerUnavailable
from mindlinks_kit.http import Peers, refusal
from mindlinks_payment.models import Parties
from mindlinks_payment.payouts import Contractor


class _Reader(BaseModel):
    model_config = ConfigDict(extra="ignore", alias_generator=to_camel, populate_by_name=True)


class _ContractParties(_Reader):
    client_company_id: str
    client_user_id: str
    contractor_id: str
    contractor_user_id: str


class _Contract(_Reader):
    """The parties travel either flat on the contract or under ``parties``."""

    id: str
    title: str = ""
    parties: _ContractParties

    @model_validator(mode="before")
    @classmethod
    def _flat_parties(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("parties") is None:
            return {**data, "parties": data}
        return data


class _Contractor(_Reader):
    id: str
    user_id: str
    email: str
    name: str = ""


def _json(response: Any, peer: str) -> Any:
    if response.status_code != 200:
        raise refusal(peer, response)
    return response.json()


_DECLARED = contract.CONTRACT
_CONTRACT = Lookup(
    _DECLARED.owner, _DECLARED.method, _DECLARED.path, _Contract, callers=_DECLARED.callers
)
"""The declared lookup, read tolerantly: only the parts payment uses (the
kit's ``Peers.call`` reads a route's answer with the route's own model)."""


class ContractDirectory:
    """The contract service's contract lookup."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def parties(self, contract_id: str) -> Parties | None:
        found = await self.peers.call(_CONTRACT, contract_id)
        if found is None:
            return None
        parties = found.parties
        return Parties(
            contract_id=found.id,
            title=found.title,
            client_company_id=parties.client_company_id,
            client_user_id=parties.client_user_id,
            contractor_id=parties.contractor_id,
            contractor_user_id=parties.contractor_user_id,
        )


class ContractorDirectory:
    """The contractor service: ``GET /internal/contractors/by-user/{userId}``."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def by_user(self, user_id: str) -> Contractor | None:
        response = await self.peers.request(
            "contractor", "GET", f"/internal/contractors/by-user/{quote(user_id, safe='')}"
        )
        if response.status_code == 404:
            return None
        try:
            found = _Contractor.model_validate(_json(response, "contractor"))
        except ValidationError as exc:
            raise PeerUnavailable(
                "contractor answered an unreadable profile", peer="contractor"
            ) from exc
        return Contractor(id=found.id, user_id=found.user_id, email=found.email, name=found.name)
