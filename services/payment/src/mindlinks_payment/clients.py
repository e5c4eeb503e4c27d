"""Typed calls to the payment service's peers: their declared routes, and
what payment keeps of the answers."""

from __future__ import annotations

from mindlinks_fleet.internal import client, contract, contractor
from mindlinks_kit.address import Address
from mindlinks_kit.http import Peers
from mindlinks_kit.schemas import from_attributes
from mindlinks_payment.domain import Parties
from mindlinks_payment.invoices import Issuer, Recipient


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


class RegisteredParties:
    """The client and contractor services' records of an invoice's parties."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def recipient(self, company_id: str) -> Recipient | None:
        found = await self.peers.call(client.COMPANY, company_id)
        if found is None:
            return None
        return Recipient(
            company_id=found.id,
            legal_name=found.legal_name,
            jurisdiction_code=found.jurisdiction_code,
            company_number=found.company_number,
            address=from_attributes(Address, found.address) if found.address else None,
        )

    async def issuer(self, contractor_user_id: str) -> Issuer | None:
        found = await self.peers.call(contractor.CONTRACTOR_BY_USER, contractor_user_id)
        if found is None:
            return None
        return Issuer(
            contractor_id=found.id,
            # The KYC-verified name while there is one: the name contracts carry.
            legal_name=found.verified_legal_name or found.name,
            email=found.email,
            address=from_attributes(Address, found.address) if found.address else None,
            country=found.country,
            tax_id=found.tax_id,
        )
