"""Typed calls to the kyc service's peers."""

from __future__ import annotations

from mindlinks_fleet.internal import contractor
from mindlinks_kit.http import Peers
from mindlinks_kit.schemas import from_attributes
from mindlinks_kyc.domain import Contractor


class ContractorDirectory:
    """The contractor service's profiles."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def by_user(self, user_id: str) -> Contractor | None:
        """The user's contractor profile, or ``None`` when they have none."""
        found = await self.peers.call(contractor.CONTRACTOR_BY_USER, user_id)
        return None if found is None else from_attributes(Contractor, found)
