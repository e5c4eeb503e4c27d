"""A toy fleet (no business nouns) to test the kit's machinery for real:
moto server over HTTP, the real Redis, real apps in-process."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mindlinks_dev.bootstrap import bootstrap
from mindlinks_dev.harness import Running, run_services
from mindlinks_kit.app import Transaction, create_app
from mindlinks_kit.declaration import Event as EventSpec
from mindlinks_kit.declaration import Fleet, Index, Key, Service, Table
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.errors import InvalidInput
from mindlinks_kit.events.envelope import Delivered
from mindlinks_kit.idempotency import REQUIRED_KEY, RequiredIdempotencyKey, fingerprint
from mindlinks_kit.runtime import Runtime
from mindlinks_kit.schemas import ApiModel
from mindlinks_kit.settings import ServiceSettings


class ThingHappened(ApiModel):
    thing_id: str
    size: int


TOY = Fleet(
    name="toy",
    services=(
        Service("auth", port=4001, area="auth"),
        Service(
            "alpha",
            port=4002,
            area="alphas",
            tables=(
                Table(
                    "things",
                    pk=Key("id"),
                    indexes=(Index("by-batch", pk=Key("batch"), sk=Key("n", "N")),),
                ),
            ),
            peers=("beta",),
            idempotent_posts=True,
        ),
        Service(
            "beta",
            port=4003,
            area="betas",
            tables=(Table("seen", pk=Key("id")),),
            consumes=("thing.happened",),
            max_receives=2,
        ),
    ),
    events=(EventSpec("thing.happened", producer="alpha", payload=ThingHappened),),
)


class MakeThing(ApiModel):
    size: int


class Timeline:
    """Pure ASGI middleware noting when each response starts to be sent, in
    the same list where the routes note their commits."""

    def __init__(self, app: ASGIApp, moments: list[tuple[str, str]]) -> None:
        self.app = app
        self.moments = moments

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.moments.append(("sent", scope["path"]))
            await send(message)

        await self.app(scope, receive, noting)


def alpha_app(settings: ServiceSettings) -> FastAPI:
    router = APIRouter()

    @router.get("/v1/alphas/ask-beta")
    async def ask_beta() -> dict[str, int]:
        response = await app.state.runtime.peers.request("beta", "GET", "/v1/betas/ping")
        return {"betaStatus": response.status_code}

    @router.post("/v1/alphas/paid-things", openapi_extra=REQUIRED_KEY)
    async def paid_thing(
        body: MakeThing, request: Request, key: RequiredIdempotencyKey = None
    ) -> JSONResponse:
        runtime: Runtime = app.state.runtime

        async def action(uow: UnitOfWork) -> tuple[int, Any]:
            thing_id = uuid.uuid4().hex
            uow.create(runtime.table("things"), {"id": thing_id, "size": body.size}, key="id")
            return 201, {"id": thing_id, "size": body.size}

        return await runtime.idempotency.run(
            key,
            scope="caller-1",
            request_fingerprint=fingerprint("POST", request.url.path, body.model_dump()),
            action=action,
            required=True,
        )

    @router.put("/v1/alphas/things/{thing_id}", status_code=201)
    async def stage_thing(thing_id: str, body: MakeThing, uow: Transaction) -> dict[str, str]:
        """Writes through the kit's ``Transaction``; a negative size is refused
        after the write is staged."""
        uow.create(app.state.runtime.table("things"), {"id": thing_id, "size": body.size}, key="id")
        uow.after_commit.append(lambda: moments.append(("committed", thing_id)))
        if body.size < 0:
            raise InvalidInput("negative things are refused")
        return {"id": thing_id}

    app = create_app(fleet=TOY, service="alpha", settings=settings, routers=[router])
    moments: list[tuple[str, str]] = []
    app.state.moments = moments
    app.add_middleware(Timeline, moments=moments)

    @app.post("/v1/alphas/make", status_code=201)
    async def make_thing(body: MakeThing) -> dict[str, str]:
        runtime: Runtime = app.state.runtime
        thing_id = uuid.uuid4().hex
        uow = runtime.uow()
        uow.create(runtime.table("things"), {"id": thing_id, "size": body.size}, key="id")
        runtime.publish(uow, "thing.happened", ThingHappened(thing_id=thing_id, size=body.size))
        await uow.commit()
        return {"id": thing_id}

    return app


def beta_app(settings: ServiceSettings) -> FastAPI:
    calls: list[str] = []

    async def setup(runtime: Runtime) -> dict[str, Any]:
        return {"runtime": runtime, "calls": calls}

    def handlers(deps: dict[str, Any]) -> dict[str, Any]:
        async def on_thing(event: Delivered[ThingHappened], uow: UnitOfWork) -> None:
            calls.append(event.id)
            if event.payload.size < 0:
                raise ValueError("negative things cannot be seen")
            uow.put(
                deps["runtime"].table("seen"), {"id": event.payload.thing_id, "eventId": event.id}
            )

        return {"thing.happened": on_thing}

    return create_app(
        fleet=TOY, service="beta", settings=settings, routers=[], setup=setup, handlers=handlers
    )


@pytest.fixture(scope="session")
def toy_fleet() -> Fleet:
    return TOY


@pytest.fixture(scope="session")
def toy_settings(fleet_resources: Any, aws_endpoint: str) -> ServiceSettings:
    prefix = f"toy{uuid.uuid4().hex[:6]}-"
    bootstrap(TOY, endpoint_url=aws_endpoint, prefix=prefix)
    return ServiceSettings(resource_prefix=prefix)


@pytest.fixture(scope="session")
async def toy(toy_settings: ServiceSettings) -> AsyncIterator[Running]:
    async with run_services(
        {
            "alpha": lambda: alpha_app(toy_settings),
            "beta": lambda: beta_app(toy_settings),
        }
    ) as running:
        yield running
