"""Run real service apps in-process for tests.

Each app runs its real lifespan against the moto server and the real Redis;
peers reach each other through ASGI transports (both sides' real code, no
sockets), and ``deliver()`` moves events along the real path — outbox →
EventBridge rule → SQS → consumer — deterministically instead of sleeping.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import BaseModel

from mindlinks_fleet.internal import auth
from mindlinks_kit.dynamo import from_wire
from mindlinks_kit.events.envelope import Detail
from mindlinks_kit.runtime import Runtime

AppFactory = Callable[..., FastAPI]
ENTRY_POINT_GROUP = "mindlinks.services"


def installed_services() -> dict[str, AppFactory]:
    """Service name → app factory, for every service package installed."""
    return {ep.name: ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)}


@dataclass
class Running:
    apps: dict[str, FastAPI] = field(default_factory=dict)
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    def client(self, service: str) -> httpx.AsyncClient:
        return self.clients[service]

    def runtime(self, service: str) -> Runtime:
        runtime: Runtime = self.apps[service].state.runtime
        return runtime

    def deps(self, service: str) -> Any:
        return self.apps[service].state.deps

    def access_token(
        self,
        user_id: str,
        role: str = "client",
        session_id: str = "s-1",
        amr: tuple[str, ...] | None = None,
    ) -> str:
        """A real access token signed by the running auth service's active key;
        a role that acts only with a second factor signed in with one unless
        ``amr`` says otherwise."""
        if amr is None:
            step_up = role in self.runtime("auth").fleet.step_up_roles
            amr = ("pwd", "otp", "mfa") if step_up else ("pwd",)
        token, _ = self.deps("auth").keys.access_token(user_id, role, session_id, 300, amr)
        return str(token)

    def bearer(self, user_id: str, role: str = "client") -> dict[str, str]:
        return {"authorization": f"Bearer {self.access_token(user_id, role)}"}

    def step_up_token(
        self,
        user_id: str,
        purpose: str,
        method: str = "email",
        *,
        ttl_seconds: int = 300,
        session_id: str = "s-1",
    ) -> str:
        """A real step-up token (issue 16) signed by the running auth service's
        active key, as ``POST /v1/auth/step-up`` answers after a confirmed code;
        a negative ``ttl_seconds`` gives one already expired."""
        token, _ = self.deps("auth").keys.step_up_token(
            user_id, session_id, purpose, method, int(time.time()), ttl_seconds
        )
        return str(token)

    def service_bearer(self, service: str) -> dict[str, str]:
        """Headers carrying a real service token of ``service`` (for /internal routes)."""
        token, _ = self.deps("auth").keys.service_token(service, 300)
        return {"authorization": f"Bearer {token}"}

    async def user_id_of(self, email: str) -> str:
        """The id of the account registered with ``email``, through auth's
        operator search (registration names no id: a taken address must get
        the same answer as a new one)."""
        response = await self.client("auth").get(
            auth.USERS.fill(), params={"email": email}, headers=self.service_bearer("admin")
        )
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert len(items) == 1, f"no account for {email}"
        return str(items[0]["id"])

    async def redeliver(self, producer: str, event_id: str) -> int:
        """Publish an already published event again — a relay that crashed between
        publishing and marking it sent — and deliver it: consumers must not
        apply it twice."""
        runtime = self.runtime(producer)
        item = await runtime.table("outbox").get({"id": event_id})
        if item is None:
            raise LookupError(f"{producer} has no outbox item {event_id}")
        await runtime.aws.events.put_events(
            Entries=[
                {
                    "EventBusName": runtime.settings.physical(runtime.fleet.bus),
                    "Source": item["source"],
                    "DetailType": item["detailType"],
                    "Detail": item["detail"],
                }
            ]
        )
        return await self.deliver()

    async def emit(self, name: str, payload: BaseModel, event_id: str | None = None) -> str:
        """Publish ``name`` through its producer's outbox when the producer is
        running, else put it on the bus exactly as the producer's relay would;
        then deliver everything. A given ``event_id`` goes on the bus as is (the
        same id again is a redelivery). Returns the event id."""
        runtime = next(iter(self.apps.values())).state.runtime
        event = runtime.fleet.event(name)
        if event.producer in self.apps and event_id is None:
            producer = self.runtime(event.producer)
            uow = producer.uow()
            published = producer.publish(uow, name, payload)
            await uow.commit()
            await self.deliver()
            return published.id
        detail = Detail(version=event.version, data=payload.model_dump(mode="json", by_alias=True))
        if event_id is not None:
            detail = detail.model_copy(update={"id": event_id})
        await runtime.aws.events.put_events(
            Entries=[
                {
                    "EventBusName": runtime.settings.physical(runtime.fleet.bus),
                    "Source": f"mindlinks.{event.producer}",
                    "DetailType": name,
                    "Detail": detail.model_dump_json(by_alias=True),
                }
            ]
        )
        await self.deliver()
        return detail.id

    async def published(self, service: str, name: str, **where: Any) -> list[dict[str, Any]]:
        """The payloads of ``name`` events in ``service``'s outbox whose fields
        equal ``where`` (camelCase names, as on the wire)."""
        runtime = self.runtime(service)
        found: list[dict[str, Any]] = []
        paginator = runtime.aws.dynamodb.get_paginator("scan")
        async for page in paginator.paginate(TableName=runtime.table("outbox").name):
            for raw in page.get("Items", []):
                item = from_wire(raw)
                data: dict[str, Any] = json.loads(item["detail"])["data"]
                if item["detailType"] == name and all(data.get(k) == v for k, v in where.items()):
                    found.append(data)
        return found

    async def deliver(self, rounds: int = 10) -> int:
        """Relay every outbox, hand every due timer to its queue (due by the
        fleet clock: ``fleet_clock``) and drain every queue until nothing moves."""
        moved_total = 0
        for _ in range(rounds):
            moved = 0
            for name in self.apps:
                runtime = self.runtime(name)
                if runtime.relay is not None:
                    moved += await runtime.relay.flush()
                if runtime.timers is not None:
                    moved += await runtime.timers.sweep()
            for name in self.apps:
                runtime = self.runtime(name)
                if runtime.consumer is not None:
                    moved += await runtime.consumer.drain()
            moved_total += moved
            if not moved:
                break
        return moved_total


def route_paths(app: FastAPI) -> set[str]:
    """Every path an app serves, whether FastAPI included its routers eagerly or lazily."""
    return set(app.openapi().get("paths", {})) | {
        path for route in app.routes if isinstance(path := getattr(route, "path", None), str)
    }


@contextlib.asynccontextmanager
async def run_services(factories: Mapping[str, Callable[[], FastAPI]]) -> AsyncIterator[Running]:
    """Start the given apps in-process and wire each one's peers to the others."""
    running = Running()
    async with contextlib.AsyncExitStack() as stack:
        for name, factory in factories.items():
            app = factory()
            # A start-up costs well under a second, but on a loaded 2-core CI
            # machine asgi-lifespan's 5 s default has been seen to run out.
            await stack.enter_async_context(
                LifespanManager(app, startup_timeout=30, shutdown_timeout=30)
            )
            running.apps[name] = app
            running.clients[name] = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")
            )
        for name in running.apps:
            peers = running.runtime(name).peers
            for other, app in running.apps.items():
                if other != name and other in peers.allowed:
                    peers.mount(other, httpx.ASGITransport(app=app))
        yield running
