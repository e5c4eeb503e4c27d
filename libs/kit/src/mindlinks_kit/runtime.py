"""Everything a service process holds once: settings, AWS clients, Redis,
HTTP, peers, token verifier, tables, outbox, relay and consumer."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import httpx
import jwt
from pydantic import BaseModel

from mindlinks_kit.auth import TokenVerifier
from mindlinks_kit.aws import Aws
from mindlinks_kit.declaration import Fleet, Service
from mindlinks_kit.dynamo import CursorCodec, StaleVersion, Table, UnitOfWork
from mindlinks_kit.events.consumer import Consumer
from mindlinks_kit.events.envelope import Detail
from mindlinks_kit.events.outbox import Outbox, Relay
from mindlinks_kit.http import Peers
from mindlinks_kit.idempotency import Idempotency
from mindlinks_kit.observability import Metrics
from mindlinks_kit.revocations import Revocations
from mindlinks_kit.settings import ServiceSettings
from mindlinks_kit.tenancy import Members
from mindlinks_kit.timers import Timers

if TYPE_CHECKING:
    from redis.asyncio import Redis  # only auth and notification import redis

T = TypeVar("T")
S = TypeVar("S", bound=ServiceSettings)


Publish = Callable[[UnitOfWork, str, BaseModel], object]
"""What a service object is given to publish an event in a unit of work
(``Runtime.publish``); tests pass a recorder."""


@dataclass
class Runtime:
    settings: ServiceSettings
    fleet: Fleet
    service: Service
    aws: Aws
    http: httpx.AsyncClient
    peers: Peers
    verifier: TokenVerifier
    metrics: Metrics
    cursors: CursorCodec
    tables: dict[str, Table]
    redis: Redis | None = None
    outbox: Outbox | None = None
    relay: Relay | None = None
    consumer: Consumer | None = None
    revocations: Revocations | None = None
    members: Members | None = None
    """Tenant memberships (fleets that declare a tenancy)."""
    timers: Timers | None = None
    """Its durable timers (services that declare timers): ``set``/``cancel``
    in a unit of work."""
    closers: list[Callable[[], Awaitable[object]]] = field(default_factory=list)
    """What the service's own ``setup`` opened (a client of its own), closed at
    shutdown after the background tasks stop, newest first."""

    def close_at_shutdown(self, close: Callable[[], Awaitable[object]]) -> None:
        """Close something ``setup`` opened when the process stops."""
        self.closers.append(close)

    @property
    def idempotency(self) -> Idempotency:
        """``Idempotency-Key`` handling (services declared with ``idempotent_posts``)."""
        return Idempotency(self.table("idempotency"), self.uow)

    def settings_as(self, kind: type[S]) -> S:
        """The settings as the service's own class (what its ``setup`` reads)."""
        if not isinstance(self.settings, kind):
            raise TypeError(f"create the app with {kind.__module__}.{kind.__qualname__}")
        return self.settings

    def table(self, name: str) -> Table:
        return self.tables[name]

    def redis_key(self, *parts: str) -> str:
        """A Redis key in this environment's namespace (environments and test
        sessions may share one Redis server; they never share keys)."""
        return self.settings.resource_prefix + self.service.name + ":" + ":".join(parts)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.aws.dynamodb)

    async def commit_retrying(
        self, stage: Callable[[UnitOfWork], Awaitable[T]], attempts: int = 3
    ) -> T:
        """Stage work on a fresh unit of work and commit it; when a concurrent
        writer changed an item first (``StaleVersion``), read again and decide
        again — the re-read usually finds the other writer's result."""
        for attempt in range(attempts):
            uow = self.uow()
            staged = await stage(uow)
            try:
                await uow.commit()
            except StaleVersion:
                if attempt == attempts - 1:
                    raise
                continue
            return staged
        raise AssertionError("unreachable")  # pragma: no cover

    def publish(self, uow: UnitOfWork, name: str, payload: BaseModel) -> Detail:
        """Add an event to ``uow``: it is published if and only if ``uow`` commits."""
        if self.outbox is None:
            raise RuntimeError(f"{self.service.name} publishes no events")
        return self.outbox.add(uow, name, payload)

    @property
    def local_mode(self) -> bool:
        return self.settings.local_mode


async def remote_service_token(runtime: Runtime) -> tuple[str, float]:
    """Mint this service's token at auth from its per-service secret."""
    settings = runtime.settings
    if settings.service_secret is not None:
        secret = settings.service_secret.get_secret_value()
    else:
        secret = await runtime.aws.secret(f"service/{runtime.service.name}")
    route = runtime.fleet.token_route
    if route is None:
        raise RuntimeError(f"{runtime.fleet.name} declares no token route")
    body = route.body(service=runtime.service.name, secret=secret) if route.body else None
    answer = await runtime.peers.call(route, body=body)
    token: str = answer.token
    claims = jwt.decode(token, options={"verify_signature": False})
    return token, float(claims.get("exp", time.time() + 60))
