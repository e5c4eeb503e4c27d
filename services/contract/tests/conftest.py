"""The contract service's tests run the real apps in-process — auth (JWKS,
service tokens) and contract — against the moto server and the real Redis.

The peers contract calls (client, contractor) are the real apps when they are
installed; until then stand-ins implementing exactly their internal routes are
mounted in their place (``mindlinks_dev.parties``), so the tests read the same."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mindlinks_dev.harness import Running
from mindlinks_dev.parties import (
    ONBOARDING,
    REAL_PEERS,
    ClientAccount,
    ContractorAccount,
    Parties,
)
from mindlinks_dev.pytest_plugin import StartServices
from mindlinks_dev.stand_ins import Directory
from mindlinks_fleet.events import EscrowSettled, SettlementOutcome

__all__ = ["ClientAccount", "Contracting", "ContractorAccount", "Parties"]


class Contracting(Parties):
    """The parties, and payment's events as the contract service hears them."""

    @staticmethod
    def settled(
        contract: dict[str, Any],
        *,
        all_settled: bool = True,
        outcome: SettlementOutcome = "released",
    ) -> EscrowSettled:
        """``payment.item-settled`` of the contract's one item (``all_settled``:
        every item it has is final now), all its money one way."""
        amount = contract["totalMinor"]
        released = amount if outcome == "released" else 0
        return EscrowSettled(
            contract_id=contract["id"],
            item_id=f"{contract['id']}-0",
            escrow_id=uuid.uuid4().hex,
            client_company_id=contract["clientCompanyId"],
            client_user_id=contract["clientUserId"],
            contractor_id=contract["contractorId"],
            contractor_user_id=contract["contractorUserId"],
            amount_minor=amount,
            currency=contract["currency"],
            outcome=outcome,
            released_minor=released,
            refunded_minor=amount - released if outcome != "cancelled" else 0,
            reason="approved" if outcome == "released" else "terminated",
            by_user_id=None,
            all_settled=all_settled,
        )


@pytest.fixture(scope="module")
async def world(start_services: StartServices) -> AsyncIterator[Contracting]:
    async with start_services("auth", *ONBOARDING, "contract") as fleet:
        directory = Directory()
        if not REAL_PEERS:
            peers = fleet.runtime("contract").peers
            peers.mount("client", httpx.ASGITransport(app=directory.client_app()))
            peers.mount("contractor", httpx.ASGITransport(app=directory.contractor_app()))
        yield Contracting(fleet, directory)


@pytest.fixture
def fleet(world: Parties) -> Running:
    return world.fleet
