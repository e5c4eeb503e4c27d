"""Typed calls to the contract service's peers: the client service (companies),
the contractor service (profiles, engagements, KYC status) and the payment
service (where a contract's items stand, for amendments)."""

from __future__ import annotations

from mindlinks_contract.domain import Company, Contractor
from mindlinks_fleet.internal import client, contractor, payment
from mindlinks_fleet.internal.client import CompanyRecord
from mindlinks_fleet.internal.contractor import ContractorRecord
from mindlinks_kit.http import Peers
from mindlinks_kit.schemas import from_attributes


class Companies:
    """The client service's companies, as the contract service sees them."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def get(self, company_id: str) -> Company | None:
        found = await self.peers.call(client.COMPANY, company_id)
        return _company(found)


def _company(found: CompanyRecord | None) -> Company | None:
    return None if found is None else from_attributes(Company, found)


class Contractors:
    """The contractor service's profiles, engagements and KYC status."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def get(self, contractor_id: str) -> Contractor | None:
        found = await self.peers.call(contractor.CONTRACTOR, contractor_id)
        return _contractor(found)

    async def by_user(self, user_id: str) -> Contractor | None:
        found = await self.peers.call(contractor.CONTRACTOR_BY_USER, user_id)
        return _contractor(found)


def _contractor(found: ContractorRecord | None) -> Contractor | None:
    return None if found is None else from_attributes(Contractor, found)


class Payments:
    """The payment service's view of a contract's items."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def item_states(self, contract_id: str) -> dict[str, str]:
        """Item id → escrow state (an item payment has not opened is absent)."""
        found = await self.peers.call(payment.CONTRACT_ITEMS, contract_id)
        return {item.item_id: item.state for item in found.items}
