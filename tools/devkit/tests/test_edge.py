"""The local edge as a dashboard sees it, with the services replaced by
in-process ASGI apps behind an injected transport (no sockets, no sleeps)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from mindlinks_dev.edge import EdgeSettings, create_edge, routes_for
from mindlinks_fleet import FLEET

DASHBOARD = "http://localhost:3000"
TEMPLATE = "http://127.0.0.1:{port}"


class Upstreams(httpx.AsyncBaseTransport):
    """The network behind the edge: a port answers with its app, raises its
    error, or refuses the connection (a service that is down)."""

    def __init__(self, ports: dict[int, ASGIApp | Exception]) -> None:
        self.ports = ports
        self.calls: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        target = self.ports.get(request.url.port or 80)
        if target is None:
            raise httpx.ConnectError("connection refused", request=request)
        if isinstance(target, Exception):
            raise target
        return await httpx.ASGITransport(app=target).handle_async_request(request)


def echo(service: str) -> ASGIApp:
    """An upstream that answers with what it received, plus headers the edge
    must not pass on (hop-by-hop, CORS) and some it must (cookies)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        seen = {
            "service": service,
            "method": scope["method"],
            "path": scope["path"],
            "query": scope["query_string"].decode(),
            "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
            "body": body.decode(),
        }
        content = json.dumps(seen).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(content)).encode()),
            (b"connection", b"keep-alive, x-upstream-hop"),
            (b"x-upstream-hop", b"1"),
            (b"keep-alive", b"timeout=5"),
            (b"access-control-allow-origin", b"*"),
            (b"set-cookie", b"a=1; Path=/"),
            (b"set-cookie", b"b=2; Path=/"),
        ]
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    return app


def seen_headers(response: httpx.Response) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in response.json()["headers"]:
        headers.setdefault(name, []).append(value)
    return headers


Connect = Callable[..., Any]


@pytest.fixture
def upstreams() -> Upstreams:
    timeout = httpx.ReadTimeout("too slow")
    return Upstreams({3001: echo("auth"), 3002: echo("user"), 3006: timeout})


@pytest.fixture
async def edge(upstreams: Upstreams) -> AsyncIterator[httpx.AsyncClient]:
    """auth and user answer, client (3003) is down, contract (3006) times out."""
    routes = routes_for(FLEET, ["auth", "user", "client", "contract"], TEMPLATE)
    settings = EdgeSettings(cors_origins=[DASHBOARD], rate_per_second=0, max_body_bytes=1024)
    app = create_edge(routes, settings, transport=upstreams)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8080") as c:
            yield c


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith("/" + code)
    assert body["title"]
    assert body["detail"]
    return body


async def test_routes_an_area_to_its_service_with_method_path_query_and_body(
    edge: httpx.AsyncClient,
) -> None:
    response = await edge.post("/v1/auth/login?next=%2Fhome&x=1", json={"email": "a@b.c"})
    assert response.status_code == 201
    seen = response.json()
    assert seen["service"] == "auth"
    assert (seen["method"], seen["path"]) == ("POST", "/v1/auth/login")
    assert seen["query"] == "next=%2Fhome&x=1"
    assert json.loads(seen["body"]) == {"email": "a@b.c"}
    assert seen_headers(response)["content-type"] == ["application/json"]

    assert (await edge.get("/v1/users/me")).json()["service"] == "user"
    assert (await edge.get("/v1/users")).json()["path"] == "/v1/users"


async def test_routes_the_extra_public_paths(edge: httpx.AsyncClient) -> None:
    response = await edge.get("/.well-known/jwks.json")
    assert response.json()["service"] == "auth"
    assert response.json()["path"] == "/.well-known/jwks.json"


@pytest.mark.parametrize(
    "path",
    [
        "/internal/ops/status",
        "/internal/auth/service-tokens",
        "/health/live/",
        "/v1/auth/%2e%2e/%2e%2e/internal/ops/status",
        "/v1",
        "/v1/",
        "/",
        "/.well-known/other.json",
    ],
)
async def test_never_routes_what_is_not_public(
    edge: httpx.AsyncClient, upstreams: Upstreams, path: str
) -> None:
    response = await edge.get(path)
    assert_problem(response, 404, "not-found")
    assert upstreams.calls == []


async def test_an_unknown_or_not_started_area_is_a_404_problem(
    edge: httpx.AsyncClient, upstreams: Upstreams
) -> None:
    body = assert_problem(await edge.get("/v1/nowhere/things"), 404, "not-found")
    assert body["instance"] == "/v1/nowhere/things"
    assert_problem(await edge.get("/v1/payments/1"), 404, "not-found")  # not started
    assert upstreams.calls == []


async def test_hop_by_hop_headers_are_dropped_both_ways(edge: httpx.AsyncClient) -> None:
    response = await edge.get(
        "/v1/auth/me",
        headers={
            "connection": "keep-alive, x-client-hop",
            "x-client-hop": "1",
            "keep-alive": "timeout=5",
            "te": "trailers",
            "upgrade": "h2c",
            "proxy-authorization": "Basic eA==",
            "authorization": "Bearer token",
            "x-forwarded-for": "198.51.100.1",
        },
    )
    seen = seen_headers(response)
    for name in (
        "connection",
        "x-client-hop",
        "keep-alive",
        "te",
        "upgrade",
        "proxy-authorization",
    ):
        assert name not in seen
    assert seen["authorization"] == ["Bearer token"]
    assert seen["x-forwarded-for"] == ["198.51.100.1, 203.0.113.7"]
    assert seen["x-forwarded-proto"] == ["http"]
    assert seen["x-forwarded-host"] == ["localhost:8080"]
    assert seen["host"] == ["127.0.0.1:3001"]

    for name in ("connection", "x-upstream-hop", "keep-alive", "access-control-allow-origin"):
        assert name not in response.headers
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]
    assert int(response.headers["content-length"]) == len(response.content)


async def test_the_correlation_id_is_passed_through_or_created(edge: httpx.AsyncClient) -> None:
    response = await edge.get("/v1/auth/me", headers={"x-correlation-id": "c-123"})
    assert seen_headers(response)["x-correlation-id"] == ["c-123"]
    assert response.headers["x-correlation-id"] == "c-123"

    response = await edge.get("/v1/auth/me")
    created = seen_headers(response)["x-correlation-id"]
    assert len(created) == 1
    assert len(created[0]) == 32
    assert response.headers["x-correlation-id"] == created[0]

    not_found = await edge.get("/nope", headers={"x-correlation-id": "c-404"})
    assert not_found.headers["x-correlation-id"] == "c-404"


async def test_cors_preflight_is_answered_by_the_edge(
    edge: httpx.AsyncClient, upstreams: Upstreams
) -> None:
    response = await edge.options(
        "/v1/auth/login",
        headers={
            "origin": DASHBOARD,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type, idempotency-key",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == DASHBOARD
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"]
    assert allowed == "authorization, content-type, idempotency-key"
    assert "origin" in response.headers["vary"].lower()
    assert upstreams.calls == []

    refused = await edge.options(
        "/v1/auth/login",
        headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
    )
    assert_problem(refused, 403, "cors-origin-not-allowed")
    assert "access-control-allow-origin" not in refused.headers
    assert upstreams.calls == []


async def test_cors_headers_on_answers_and_on_errors(edge: httpx.AsyncClient) -> None:
    response = await edge.get("/v1/auth/me", headers={"origin": DASHBOARD})
    assert response.headers["access-control-allow-origin"] == DASHBOARD
    assert "x-correlation-id" in response.headers["access-control-expose-headers"]
    problem = await edge.get("/v1/nowhere", headers={"origin": DASHBOARD})
    assert problem.headers["access-control-allow-origin"] == DASHBOARD

    other = await edge.get("/v1/auth/me", headers={"origin": "https://evil.example"})
    assert other.status_code == 201
    assert "access-control-allow-origin" not in other.headers


async def test_a_service_that_is_down_is_a_503_problem(edge: httpx.AsyncClient) -> None:
    response = await edge.get("/v1/clients/c1", headers={"origin": DASHBOARD})
    body = assert_problem(response, 503, "peer-unavailable")
    assert body["service"] == "client"
    assert "127.0.0.1" not in response.text  # no internal addresses
    assert response.headers["retry-after"]
    assert response.headers["access-control-allow-origin"] == DASHBOARD


async def test_a_service_that_times_out_is_a_504_problem(edge: httpx.AsyncClient) -> None:
    assert_problem(await edge.get("/v1/contracts/k1"), 504, "gateway-timeout")


async def test_a_body_over_the_limit_is_a_413_problem(
    edge: httpx.AsyncClient, upstreams: Upstreams
) -> None:
    assert_problem(await edge.post("/v1/auth/x", content=b"x" * 1025), 413, "payload-too-large")
    assert upstreams.calls == []


async def test_rate_limit_per_client_ip_with_retry_after(upstreams: Upstreams) -> None:
    now = [1000.0]
    routes = routes_for(FLEET, ["auth"], TEMPLATE)
    settings = EdgeSettings(cors_origins=[DASHBOARD], rate_per_second=1, burst=2)
    app = create_edge(routes, settings, transport=upstreams, clock=lambda: now[0])

    def client(ip: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(ip, 1234))
        return httpx.AsyncClient(transport=transport, base_url="http://localhost:8080")

    async with LifespanManager(app), client("192.0.2.1") as one, client("192.0.2.2") as two:
        assert (await one.get("/v1/auth/me")).status_code == 201
        assert (await one.get("/v1/auth/me")).status_code == 201
        limited = await one.get("/v1/auth/me", headers={"origin": DASHBOARD})
        assert_problem(limited, 429, "too-many-requests")
        assert limited.headers["retry-after"] == "1"
        assert limited.headers["access-control-allow-origin"] == DASHBOARD
        assert (await one.get("/health/live")).status_code == 200  # never limited
        assert (await two.get("/v1/auth/me")).status_code == 201  # another client
        now[0] += 1.0
        assert (await one.get("/v1/auth/me")).status_code == 201
        assert (await one.get("/v1/auth/me")).status_code == 429
    assert len(upstreams.calls) == 4


async def test_health_live_of_the_edge_itself(edge: httpx.AsyncClient) -> None:
    response = await edge.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "edge"}


def auth_app() -> FastAPI:
    app = FastAPI()

    @app.get("/v1/auth/me")
    async def me() -> dict[str, str]:
        return {"id": "u1"}

    @app.get("/v1/auth/dev/mailbox")
    async def mailbox() -> list[str]:
        return []

    @app.get("/.well-known/jwks.json")
    async def jwks() -> dict[str, list[str]]:
        return {"keys": []}

    @app.post("/internal/auth/service-tokens")
    async def service_tokens() -> dict[str, str]:
        return {"token": "t"}

    return app


async def test_docs_and_the_merged_openapi_of_the_services_behind_it() -> None:
    upstreams = Upstreams({3001: auth_app()})
    routes = routes_for(FLEET, ["auth", "user"], TEMPLATE)  # user is down
    app = create_edge(routes, EdgeSettings(rate_per_second=0), transport=upstreams)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8080") as c:
            docs = await c.get("/docs")
            assert docs.status_code == 200
            assert "swagger" in docs.text.lower()
            assert "/openapi.json" in docs.text
            # Swagger UI's files come from the edge itself, never a CDN.
            assert "cdn" not in docs.text.lower()
            assert "https://" not in docs.text
            for asset, kind in (
                ("swagger-ui-bundle.js", "text/javascript"),
                ("swagger-ui.css", "text/css"),
            ):
                assert f'"/docs/assets/{asset}"' in docs.text
                served = await c.get(f"/docs/assets/{asset}")
                assert served.status_code == 200
                assert served.headers["content-type"].startswith(kind)
                assert len(served.content) > 100_000
            unknown = await c.get("/docs/assets/../../etc/passwd")
            assert unknown.status_code == 404
            assert unknown.headers["content-type"] == "application/problem+json"
            spec = (await c.get("/openapi.json")).json()
            assert sorted(spec["paths"]) == [
                "/.well-known/jwks.json",
                "/v1/auth/dev/mailbox",  # routed locally, so documented locally
                "/v1/auth/me",
            ]
            assert spec["servers"] == [{"url": "http://localhost:8080"}]
            assert "user" in spec["info"]["description"]  # not answering yet
            calls = len(upstreams.calls)
            await c.get("/openapi.json")
            assert len(upstreams.calls) == calls + 2  # not cached while one is missing


async def test_websockets_are_refused() -> None:
    app = create_edge(routes_for(FLEET, [], TEMPLATE))
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(message)

    await app({"type": "websocket", "path": "/v1/auth/ws", "headers": []}, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008}]


async def test_health_ready_names_the_upstreams_it_cannot_route_to(
    edge: httpx.AsyncClient, upstreams: Upstreams
) -> None:
    response = await edge.get("/health/ready")
    body = assert_problem(response, 503, "not-ready")
    assert response.headers["retry-after"] == "1"
    assert body["upstreams"] == {
        "auth": "ok",
        "client": "failed: ConnectError",
        "contract": "failed: ReadTimeout",
        "user": "ok",
    }
    assert {call.url.path for call in upstreams.calls} == {"/health/live"}


async def test_health_ready_when_every_upstream_answers(upstreams: Upstreams) -> None:
    routes = routes_for(FLEET, ["auth", "user"], TEMPLATE)
    app = create_edge(routes, EdgeSettings(rate_per_second=1, burst=1), transport=upstreams)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8080") as c:
            assert (await c.get("/v1/auth/me")).status_code == 201  # spends the only token
            for _ in range(3):  # readiness is probed often: never rate limited
                response = await c.get("/health/ready")
                assert response.status_code == 200
                assert response.json() == {
                    "status": "ready",
                    "upstreams": {"auth": "ok", "user": "ok"},
                }


async def test_a_header_value_with_trailing_space_reaches_the_service_trimmed(
    edge: httpx.AsyncClient,
) -> None:
    """``Authorization: Bearer `` (empty token) is the service's 401 to give,
    not a 502 because the edge could not forward the header."""
    response = await edge.get("/v1/auth/me", headers={"x-note": "kept "})
    assert response.status_code == 201
    assert seen_headers(response)["x-note"] == ["kept"]


async def test_an_access_line_per_answered_request(
    edge: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """uvicorn's access log is off for the edge (``--no-access-log``): it
    writes the same line itself, for its own answers and proxied ones."""
    capsys.readouterr()
    await edge.get("/v1/auth/me?x=1%202")
    await edge.get("/health/live")
    await edge.get("/v1/clients/c1")  # down
    assert capsys.readouterr().out.splitlines() == [
        'INFO:     203.0.113.7:50000 - "GET /v1/auth/me?x=1%202 HTTP/1.1" 201 Created',
        'INFO:     203.0.113.7:50000 - "GET /health/live HTTP/1.1" 200 OK',
        'INFO:     203.0.113.7:50000 - "GET /v1/clients/c1 HTTP/1.1" 503 Service Unavailable',
    ]
