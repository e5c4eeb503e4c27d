"""The notification service's tests run the real apps in-process — auth (JWKS,
service tokens, user.created), user (preferences) and notification — against
the moto server and real Redis; mail lands in a per-session local mailbox."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mindlinks_dev.bootstrap import Bootstrapped
from mindlinks_dev.harness import Running
from mindlinks_dev.pytest_plugin import StartServices
from mindlinks_fleet.events import Role, UserCreated


@pytest.fixture(scope="session")
def mailbox_dir(fleet_resources: Bootstrapped) -> Path:
    """The session's local mailbox (the pytest plugin points every app at it)."""
    return Path(os.environ["MINDLINKS_MAILBOX_DIR"])


@pytest.fixture(scope="module")
async def fleet(start_services: StartServices, mailbox_dir: Path) -> AsyncIterator[Running]:
    async with start_services("auth", "user", "notification") as running:
        yield running


@dataclass(frozen=True)
class Account:
    user_id: str
    email: str
    name: str
    token: str
    event_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}


class Accounts:
    def __init__(self, fleet: Running) -> None:
        self.fleet = fleet

    def headers(self, user_id: str, role: str = "client") -> dict[str, str]:
        return self.fleet.bearer(user_id, role)

    def service_headers(self, service: str = "auth") -> dict[str, str]:
        return self.fleet.service_bearer(service)

    async def publish(self, role: Role = "client", name: str = "Ada Lovelace") -> Account:
        user_id = uuid.uuid4().hex
        email = f"{user_id}@example.com"
        auth = self.fleet.runtime("auth")
        uow = auth.uow()
        detail = auth.publish(
            uow, "user.created", UserCreated(user_id=user_id, email=email, name=name, role=role)
        )
        await uow.commit()
        headers = self.headers(user_id, role)
        return Account(user_id, email, name, headers["authorization"][7:], detail.id)

    async def create(self, role: Role = "client", name: str = "Ada Lovelace") -> Account:
        """user.created through the real path: the user service makes the profile
        and preferences, the notification service the welcome."""
        account = await self.publish(role, name)
        await self.fleet.deliver()
        return account

    async def republish(self, event_id: str) -> int:
        return await self.fleet.redeliver("auth", event_id)

    async def mailbox(self, to: str) -> list[dict[str, Any]]:
        response = await self.fleet.client("notification").get(
            "/v1/notifications/dev/mailbox", params={"to": to}
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

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
