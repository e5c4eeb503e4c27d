"""The user service's tests run the real apps in-process (auth for JWKS and
the events it produces, user itself) against the moto server and real Redis."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from mindlinks_dev.harness import Running
from mindlinks_dev.pytest_plugin import StartServices
from mindlinks_fleet.events import Role, UserCreated
from mindlinks_kit.dynamo import from_wire


@pytest.fixture(scope="module")
async def fleet(start_services: StartServices) -> AsyncIterator[Running]:
    async with start_services("auth", "user") as running:
        yield running


@dataclass(frozen=True)
class Account:
    user_id: str
    email: str
    name: str
    role: str
    token: str
    event_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}


class Accounts:
    """Accounts made the way production makes them: auth commits ``user.created``
    through its outbox and the event travels EventBridge → SQS → consumer."""

    def __init__(self, fleet: Running) -> None:
        self.fleet = fleet

    def token(self, user_id: str, role: str = "client") -> str:
        return self.fleet.access_token(user_id, role)

    def headers(self, user_id: str, role: str = "client") -> dict[str, str]:
        return self.fleet.bearer(user_id, role)

    def service_headers(self, service: str = "notification") -> dict[str, str]:
        return self.fleet.service_bearer(service)

    async def publish(
        self, user_id: str | None = None, role: Role = "client", name: str = "Ada Lovelace"
    ) -> Account:
        user_id = user_id or uuid.uuid4().hex
        email = f"{user_id}@example.com"
        auth = self.fleet.runtime("auth")
        uow = auth.uow()
        detail = auth.publish(
            uow, "user.created", UserCreated(user_id=user_id, email=email, name=name, role=role)
        )
        await uow.commit()
        return Account(user_id, email, name, role, self.token(user_id, role), detail.id)

    async def create(self, role: Role = "client", name: str = "Ada Lovelace") -> Account:
        account = await self.publish(role=role, name=name)
        await self.fleet.deliver()
        return account

    async def republish(self, event_id: str) -> int:
        return await self.fleet.redeliver("auth", event_id)

    async def published(self, name: str, user_id: str) -> list[dict[str, Any]]:
        """The payloads of ``name`` events the user service wrote for ``user_id``."""
        user = self.fleet.runtime("user")
        outbox = user.table("outbox")
        found: list[dict[str, Any]] = []
        paginator = user.aws.dynamodb.get_paginator("scan")
        async for page in paginator.paginate(TableName=outbox.name):
            for raw in page.get("Items", []):
                item = from_wire(raw)
                data = json.loads(item["detail"])["data"]
                if item["detailType"] == name and data.get("userId") == user_id:
                    found.append(data)
        return found


@pytest.fixture
def accounts(fleet: Running) -> Accounts:
    return Accounts(fleet)
