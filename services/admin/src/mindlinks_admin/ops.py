"""The kit's routes that every service has — ``/health/live``, ``/health/ready``
and ``/internal/ops/...`` — called on any service by name, the admin service
included: it reaches its own through its app in-process, so its report comes
from the same code as everybody else's."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx
from starlette.types import ASGIApp

from mindlinks_admin.peers import Record, bad_answer, read, read_record
from mindlinks_kit.http import Peers


class Ops:
    def __init__(self, peers: Peers, own: str, own_app: Callable[[], ASGIApp]) -> None:
        self.peers = peers
        self.own = own
        self._own_app = own_app
        self._own_client: httpx.AsyncClient | None = None

    async def request(
        self,
        service: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        authenticate: bool = True,
        timeout: float | None = None,
        attempts: int | None = None,
    ) -> httpx.Response:
        if service != self.own:
            return await self.peers.request(
                service,
                method,
                path,
                json=json,
                params=params,
                authenticate=authenticate,
                timeout=timeout,
                attempts=attempts,
            )
        if self._own_client is None:
            # An in-process transport holds no sockets: nothing to close.
            self._own_client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self._own_app()), base_url=f"http://{self.own}"
            )
        headers = await self.peers.headers(authenticate=authenticate)
        return await self._own_client.request(
            method, path, json=json, params=params, headers=headers
        )

    # the kit's routes ---------------------------------------------------------

    async def live(self, service: str, timeout: float) -> Record:
        response = await self.request(
            service, "GET", "/health/live", authenticate=False, timeout=timeout, attempts=1
        )
        return read_record(service, response) or {}

    async def ready(self, service: str, timeout: float) -> Record:
        """``{status: ready, checks}``; a not-ready service answers 503, which
        the peer client reports as unavailable."""
        response = await self.request(
            service, "GET", "/health/ready", authenticate=False, timeout=timeout, attempts=1
        )
        return read_record(service, response) or {}

    async def status(self, service: str, timeout: float | None = None) -> Record:
        response = await self.request(
            service, "GET", "/internal/ops/status", timeout=timeout, attempts=1
        )
        return read_record(service, response) or {}

    async def dead_letters(self, service: str, limit: int) -> list[Record]:
        response = await self.request(
            service, "GET", "/internal/ops/dead-letters", params={"limit": limit}
        )
        body = read(service, response)
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise bad_answer(service, "not a list of dead letters")
        return items

    async def replay(self, service: str, message_ids: list[str] | None, every: bool) -> Record:
        body: dict[str, Any] = {"all": True} if every else {"messageIds": message_ids}
        response = await self.request(
            service, "POST", "/internal/ops/dead-letters/replay", json=body
        )
        return read_record(service, response) or {}

    async def discard(self, service: str, message_ids: list[str], reason: str) -> Record:
        response = await self.request(
            service,
            "POST",
            "/internal/ops/dead-letters/discard",
            json={"messageIds": message_ids, "reason": reason},
        )
        return read_record(service, response) or {}
