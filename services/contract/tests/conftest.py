"""The contract service's tests run the real apps in-process — auth (JWKS,
service tokens) and contract — against the moto server and the real Redis.

The peers contract calls (client, contractor) are the real apps when they are
installed; until then stand-ins implementing exactly their internal routes are
mounted in their place (``mindlinks_dev.parties``), so the tests read the same."""

from __future__ import annotations

from collections.abc import AsyncIterator

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

__all__ = ["ClientAccount", "ContractorAccount", "Parties"]


@pytest.fixture(scope="module")
async def world(start_services: StartServices) -> AsyncIterator[Parties]:
    async with start_services("auth", *ONBOARDING, "contract") as fleet:
        directory = Directory()
        if not REAL_PEERS:
            peers = fleet.runtime("contract").peers
            peers.mount("client", httpx.ASGITransport(app=directory.client_app()))
            peers.mount("contractor", httpx.ASGITransport(app=directory.contractor_app()))
        yield Parties(fleet, directory)


@pytest.fixture
def fleet(world: Parties) -> Running:
    return world.fleet
