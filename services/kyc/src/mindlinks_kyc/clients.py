"""Typed calls to the kyc service's peers."""

from __future__ import annotations

from mindlinks_fleet.internal import contractor
from mindlinks_kit.http import Peers
from mindlinks_kyc.domain import Contractor


class ContractorDirectory:
    """The contractor service's profiles."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def by_user(self, user_id: str) -> Contractor | None:
        """The user's contractor profile, or ``None`` when they have none."""
        found = await self.peers.call(contractor.CONTRACTOR_BY_USER, user_id)
        if found is None:
            return None
        return Contractor(
            id=found.id,
            user_id=found.user_id,
            name=found.name,
            email=found.email,
            kyc_status=found.kyc_status,
        )
