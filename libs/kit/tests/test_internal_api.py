"""The internal API declared once: the fleet checks the declaration, the owner
must mount exactly what is declared (from the declaration), only declared
callers get through, and a caller's call is the declared route."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from httpx import ASGITransport, AsyncClient

from mindlinks_kit.auth import ServiceCaller, service_caller
from mindlinks_kit.declaration import EVERY_SERVICE, Call, Fleet, Lookup, Service
from mindlinks_kit.errors import Conflict, PeerRefused, install_handlers
from mindlinks_kit.http import Peers, ServiceTokens
from mindlinks_kit.internal import allowed_callers, check_mounted, serve
from mindlinks_kit.schemas import ApiModel


class Thing(ApiModel):
    id: str
    size: int


class Resize(ApiModel):
    size: int


class ThingLocked(Conflict):
    code = "thing-locked"
    title = "The thing is locked"


THING = Lookup("alpha", "GET", "/internal/alphas/things/{thing_id}", Thing, callers=("beta",))
RESIZE = Call(
    "alpha",
    "POST",
    "/internal/alphas/things/{thing_id}/resize",
    Thing,
    ("beta",),
    body=Resize,
    refusals=(ThingLocked,),
)
RAW = Call("alpha", "GET", "/internal/alphas/things/{thing_id}/raw", bytes, callers=("beta",))
PING = Call(EVERY_SERVICE, "GET", "/internal/ops/ping", Thing, callers=("beta",))


def fleet(*routes: Any, beta_peers: tuple[str, ...] = ("alpha",)) -> Fleet:
    return Fleet(
        name="toy",
        services=(
            Service("alpha", port=4102, area="alphas"),
            Service("beta", port=4103, area="betas", peers=beta_peers),
        ),
        events=(),
        routes=routes,
    )


def test_the_fleet_refuses_a_declaration_that_does_not_hold() -> None:
    fleet(THING, RESIZE)  # holds
    with pytest.raises(ValueError, match="declared twice"):
        fleet(THING, THING)
    with pytest.raises(ValueError, match="unknown owner"):
        fleet(Call("gamma", "GET", "/internal/x", Thing, callers=("beta",)))
    with pytest.raises(ValueError, match="unknown callers"):
        fleet(Call("alpha", "GET", "/internal/x", Thing, callers=("gamma",)))
    with pytest.raises(ValueError, match="unknown callers"):
        fleet(Call("alpha", "GET", "/internal/x", Thing, callers=()))
    with pytest.raises(ValueError, match="must start with /internal/"):
        fleet(Call("alpha", "GET", "/v1/alphas/x", Thing, callers=("beta",)))
    with pytest.raises(ValueError, match="must agree"):
        fleet(THING, beta_peers=())  # beta calls alpha without declaring it a peer


def alpha(
    declared: Fleet, *, plain: bool = False, extra: bool = False, skip: bool = False
) -> FastAPI:
    router = APIRouter()
    if plain:

        @router.get("/internal/alphas/things/{thing_id}")
        async def thing_by_hand(thing_id: str) -> Thing:
            return Thing(id=thing_id, size=1)

    elif not skip:

        @serve(router, THING)
        async def thing(thing_id: str) -> Thing:
            return Thing(id=thing_id, size=1)

    if extra:

        @router.get("/internal/alphas/secret")
        async def secret() -> dict[str, str]:
            return {}

    app = FastAPI()
    install_handlers(app)
    app.include_router(router)
    check_mounted(app, declared, "alpha")
    return app


def test_the_owner_mounts_exactly_what_is_declared_from_the_declaration() -> None:
    alpha(fleet(THING))
    with pytest.raises(RuntimeError, match="declared but not mounted"):
        alpha(fleet(THING), skip=True)
    with pytest.raises(RuntimeError, match="mounted but not declared"):
        alpha(fleet(THING), extra=True)
    with pytest.raises(RuntimeError, match="not mounted with serve"):
        alpha(fleet(THING), plain=True)
    with pytest.raises(RuntimeError, match="/internal/ops/ping is declared but not mounted"):
        alpha(fleet(THING, PING))  # every service mounts the kit's routes


async def test_only_the_declared_callers_get_through() -> None:
    app = alpha(fleet(THING))
    calls = {"as": "beta"}

    async def caller() -> ServiceCaller:
        return ServiceCaller(service=calls["as"], user=None)

    app.dependency_overrides[service_caller] = caller
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://alpha") as client:
        allowed = await client.get("/internal/alphas/things/t-1")
        assert allowed.status_code == 200
        assert allowed.json() == {"id": "t-1", "size": 1}
        calls["as"] = "gamma"
        refused = await client.get("/internal/alphas/things/t-1")
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    assert refused.json()["detail"] == "Only beta may call this"
    assert getattr(allowed_callers(THING), "declared_route", None) is THING


class Recorder(httpx.AsyncBaseTransport):
    def __init__(self, status: int, body: Any) -> None:
        self.status, self.body = status, body
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if isinstance(self.body, bytes):
            return httpx.Response(self.status, content=self.body)
        return httpx.Response(self.status, json=self.body)


async def static_token() -> tuple[str, float]:
    return "service-token", 1e12


def beta_peers(transport: Recorder, service: str = "beta") -> Peers:
    peers = Peers(
        template="http://{name}:{port}",
        ports={"alpha": 1},
        allowed={"alpha"},
        client=httpx.AsyncClient(transport=transport),
        service=service,
    )
    peers.tokens = ServiceTokens(static_token)
    return peers


async def test_a_call_fills_the_path_sends_the_body_and_reads_the_declared_answer() -> None:
    transport = Recorder(200, {"id": "a/b", "size": 7})
    peers = beta_peers(transport)
    thing = await peers.call(RESIZE, "a/b", body=Resize(size=7))
    assert thing == Thing(id="a/b", size=7)
    sent = transport.requests[0]
    assert sent.method == "POST"
    assert sent.url.raw_path == b"/internal/alphas/things/a%2Fb/resize"
    assert json.loads(sent.content) == {"size": 7}
    assert sent.headers["authorization"] == "Bearer service-token"


async def test_a_lookup_answers_none_for_404_and_a_call_refuses() -> None:
    assert await beta_peers(Recorder(404, {"code": "thing-not-found"})).call(THING, "t") is None
    with pytest.raises(PeerRefused) as refused:
        await beta_peers(Recorder(404, {"code": "thing-not-found"})).call(
            RESIZE, "t", body=Resize(size=1)
        )
    assert (refused.value.peer_status, refused.value.peer_code) == (404, "thing-not-found")
    assert refused.value.body()["status"] == 404


async def test_an_answer_that_is_not_the_declared_model_is_the_peers_fault() -> None:
    with pytest.raises(PeerRefused) as refused:
        await beta_peers(Recorder(200, {"id": "t"})).call(THING, "t")
    assert refused.value.body()["status"] == 502
    assert "not a Thing" in refused.value.detail


async def test_bytes_answers_and_the_callers_own_refusals() -> None:
    assert await beta_peers(Recorder(200, b"%PDF-1.7")).call(RAW, "t") == b"%PDF-1.7"

    class Mine(Exception):
        pass

    peers = beta_peers(Recorder(409, {"code": "busy"}))
    peers.refusal = lambda peer, response: Mine(peer, response.status_code)
    with pytest.raises(Mine) as mine:
        await peers.call(RESIZE, "t", body=Resize(size=1))
    assert mine.value.args == ("alpha", 409)


async def test_a_call_that_the_declaration_does_not_allow_is_not_sent() -> None:
    transport = Recorder(200, {"id": "t", "size": 1})
    with pytest.raises(ValueError, match="not a declared caller"):
        await beta_peers(transport, service="gamma").call(THING, "t")
    with pytest.raises(ValueError, match="path parameters"):
        await beta_peers(transport).call(THING)
    with pytest.raises(TypeError, match="takes"):
        await beta_peers(transport).call(RESIZE, "t", body=Thing(id="t", size=1))
    with pytest.raises(ValueError, match="name the peer"):
        await beta_peers(transport).call(PING)
    assert transport.requests == []


async def test_a_declared_refusal_reaches_the_caller_as_the_declared_class() -> None:
    locked = {"code": "thing-locked", "detail": "Locked by Ada until noon"}
    with pytest.raises(ThingLocked) as raised:
        await beta_peers(Recorder(409, locked)).call(RESIZE, "t", body=Resize(size=1))
    assert raised.value.detail == "Locked by Ada until noon"
    # The same code with another status is not that refusal: passed on as the peer's.
    with pytest.raises(PeerRefused):
        await beta_peers(Recorder(422, locked)).call(RESIZE, "t", body=Resize(size=1))
