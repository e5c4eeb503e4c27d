"""The user service's tests run the real apps in-process (auth for JWKS and
the events it produces, user itself) against the moto server and real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from mindlinks_dev.harness import Running
from mindlinks_dev.people import People
from mindlinks_dev.pytest_plugin import StartServices


@pytest.fixture(scope="module")
async def fleet(start_services: StartServices) -> AsyncIterator[Running]:
    async with start_services("auth", "user") as running:
        yield running


class Accounts(People):
    """Accounts made the way production makes them: auth commits ``user.created``
    through its outbox and the event travels EventBridge → SQS → consumer."""

    def service_headers(self, service: str = "notification") -> dict[str, str]:
        return self.fleet.service_bearer(service)

    async def published(self, name: str, user_id: str) -> list[dict[str, Any]]:
        """The payloads of ``name`` events the user service wrote for ``user_id``."""
        return await self.fleet.published("user", name, userId=user_id)


@pytest.fixture
def accounts(fleet: Running) -> Accounts:
    return Accounts(fleet)
