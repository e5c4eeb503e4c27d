"""Typed calls to the payment service's peers: their declared routes, and
what payment keeps of the answers."""

from __future__ import annotations

from mindlinks_fleet.internal import contract
from mindlinks_kit.http import Peers
from mindlinks_payment.domain import Parties


class ContractDirectory:
    """The contract service's contract lookup."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def parties(self, contract_id: str) -> Parties | None:
        found = await self.peers.call(contract.CONTRACT, contract_id)
        if found is None:
            return None
        return Parties(
            contract_id=found.id,
            title=found.title,
            client_company_id=found.client_company_id,
            client_user_id=found.client_user_id,
            contractor_id=found.contractor_id,
            contractor_user_id=found.contractor_user_id,
        )
