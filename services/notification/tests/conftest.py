"""The notification service's tests run the real apps in-process — auth (JWKS,
service tokens, user.created), user (preferences) and notification — against
the moto server and real Redis; mail lands in a per-session local mailbox."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from mindlinks_dev.bootstrap import Bootstrapped
from mindlinks_dev.harness import Running
from mindlinks_dev.people import Account, People
from mindlinks_dev.pytest_plugin import StartServices

__all__ = ["Account", "Accounts"]


@pytest.fixture(scope="session")
def mailbox_dir(fleet_resources: Bootstrapped) -> Path:
    """The session's local mailbox (the pytest plugin points every app at it)."""
    return Path(os.environ["MINDLINKS_MAILBOX_DIR"])


@pytest.fixture(scope="module")
async def fleet(start_services: StartServices, mailbox_dir: Path) -> AsyncIterator[Running]:
    async with start_services("auth", "user", "notification") as running:
        yield running


class Accounts(People):
    def service_headers(self, service: str = "auth") -> dict[str, str]:
        return self.fleet.service_bearer(service)

    async def send(self, body: dict[str, Any], service: str = "auth") -> Any:
        return await self.fleet.client("notification").post(
            "/internal/notifications/send", json=body, headers=self.service_headers(service)
        )

    async def set_preferences(self, account: Account, **email: bool) -> None:
        categories = {
            "productUpdates": True,
            "contractUpdates": True,
            "paymentUpdates": True,
            "marketing": False,
        }
        response = await self.fleet.client("user").put(
            "/v1/users/me/preferences",
            headers=account.headers,
            json={"notifications": {"email": {**categories, **email}, "inApp": categories}},
        )
        assert response.status_code == 200, response.text


@pytest.fixture
def accounts(fleet: Running) -> Accounts:
    return Accounts(fleet)
