"""The kit's routes that every service has — ``/health/live``, ``/health/ready``
and ``/internal/ops/...`` — called on any service by name, the admin service
included: it reaches its own through its app in-process, so its report comes
from the same code as everybody else's."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx
from pydantic import BaseModel
from starlette.types import ASGIApp

from mindlinks_admin.peers import Record, read_record, record_of
from mindlinks_fleet.internal import operations
from mindlinks_kit.declaration import Call
from mindlinks_kit.http import Peers
from mindlinks_kit.operations import Discard, Replay


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
        return await self._call(service, operations.STATUS, timeout=timeout, attempts=1)

    async def dead_letters(self, service: str, limit: int) -> list[Record]:
        record = await self._call(service, operations.DEAD_LETTERS, params={"limit": limit})
        items: list[Record] = record["items"]
        return items

    async def replay(self, service: str, message_ids: list[str] | None, every: bool) -> Record:
        body = Replay(all=True) if every else Replay(message_ids=message_ids or [])
        return await self._call(service, operations.REPLAY, body=body)

    async def discard(self, service: str, message_ids: list[str], reason: str) -> Record:
        body = Discard(message_ids=message_ids, reason=reason)
        return await self._call(service, operations.DISCARD, body=body)

    async def _call(
        self,
        service: str,
        route: Call[Any],
        *,
        body: BaseModel | None = None,
        params: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        attempts: int | None = None,
    ) -> Record:
        """A declared operations route on ``service``, the admin's own included."""
        if service != self.own:
            answer = await self.peers.call(
                route, peer=service, body=body, params=params, timeout=timeout, attempts=attempts
            )
            return record_of(answer)
        json = body.model_dump(mode="json", by_alias=True, exclude_unset=True) if body else None
        response = await self.request(service, route.method, route.fill(), json=json, params=params)
        return read_record(service, response) or {}
