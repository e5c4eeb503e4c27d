"""The notification service's tests run the real apps in-process — auth (JWKS,
service tokens, user.created), user (preferences) and notification — against
the moto server and real Redis; mail lands in a per-session local mailbox."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mindlinks_dev.bootstrap import Bootstrapped
from mindlinks_dev.harness import Running
from mindlinks_dev.people import Account, People
from mindlinks_dev.pytest_plugin import StartServices

__all__ = ["Account", "Accounts", "Received", "Receiver"]


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

    async def notes(self, account: Account, template: str) -> list[dict[str, Any]]:
        """The account's in-app notifications made from ``template``."""
        return [n for n in await self.in_app(account) if n["template"] == template]

    async def mails(self, account: Account, template: str) -> list[dict[str, Any]]:
        """The mail sent to the account from ``template``, newest first."""
        return [m for m in await self.mailbox(account.email) if m["template"] == template]


@pytest.fixture
def accounts(fleet: Running) -> Accounts:
    return Accounts(fleet)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def signature(self) -> tuple[int, list[str]]:
        fields = [part.split("=", 1) for part in self.headers["mindlinks-signature"].split(",")]
        (stamp,) = [v for k, v in fields if k == "t"]
        return int(stamp), [v for k, v in fields if k == "v1"]

    def signed_by(self, secret: str) -> bool:
        """Checked here independently of the service's code: HMAC-SHA256 of ``t.body``."""
        stamp, given = self.signature()
        expected = hmac.new(
            secret.encode(), f"{stamp}.".encode() + self.body, hashlib.sha256
        ).hexdigest()
        return expected in given


class Receiver:
    """A webhook receiver: a real HTTP server on 127.0.0.1 in the test's event
    loop (deliveries run in the same loop, inside ``fleet.deliver()``),
    answering a status the test sets and keeping what it received."""

    def __init__(self) -> None:
        self.status = 204
        self.received: list[Received] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def __aenter__(self) -> Receiver:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            line, *lines = head.split("\r\n")
            headers = {}
            for header in lines:
                if ":" in header:
                    name, value = header.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.received.append(Received(line.split(" ")[1], headers, body))
            writer.write(
                f"HTTP/1.1 {self.status} Status\r\nContent-Length: 9\r\n"
                "Connection: close\r\n\r\nnot kept.".encode()
            )
            await writer.drain()
        finally:
            writer.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as running:
        yield running
