"""The edge app: pure ASGI (``@app.middleware`` would cost ~10x per request),
proxying through its own small client (``mindlinks_dev.edge.wire``)."""

from __future__ import annotations

import asyncio
import json
import math
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx
from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send

from mindlinks_dev.edge.access import access_line
from mindlinks_dev.edge.docs import DOCS_ASSETS, swagger_asset, swagger_page
from mindlinks_dev.edge.forwarding import (
    Forwarder,
    TimedOut,
    TransportForwarder,
    Unreachable,
    UpstreamError,
)
from mindlinks_dev.edge.limits import RateLimiter
from mindlinks_dev.edge.routing import (
    RawHeaders,
    Routes,
    Upstream,
    correlation_id,
    forward_headers,
    response_headers,
    routes_for,
)
from mindlinks_dev.edge.settings import EdgeSettings
from mindlinks_dev.edge.wire import WireForwarder
from mindlinks_dev.openapi import merge_openapi
from mindlinks_kit.errors import PROBLEM_JSON, NotFound, PeerUnavailable, TooManyRequests
from mindlinks_kit.errors import problem_body as problem
from mindlinks_kit.middleware import CORRELATION_HEADER

ALLOWED_METHODS = b"GET, POST, PUT, PATCH, DELETE, OPTIONS"
EXPOSED_HEADERS = b"x-correlation-id, retry-after, location, content-disposition"
CONNECT_SECONDS = 2.0


class _ClientGone(Exception):
    """The client went away before it sent its whole request."""


class Edge:
    """API Gateway + ALB for one machine; build it with ``create_edge``."""

    def __init__(
        self,
        routes: Routes,
        settings: EdgeSettings,
        transport: httpx.AsyncBaseTransport | None,
        clock: Callable[[], float],
    ) -> None:
        self.routes = routes
        self.settings = settings
        self.transport = transport
        self.origins = frozenset(origin.rstrip("/") for origin in settings.cors_origins)
        self.limiter = RateLimiter(settings.rate_per_second, settings.burst, clock)
        self.client: httpx.AsyncClient | None = None
        """For the edge's own calls: readiness probes and the services' OpenAPI."""
        self.forwarder: Forwarder | None = None
        """For what it proxies."""
        self._openapi: dict[str, Any] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if not self.settings.access_log:
                await self._http(scope, receive, send)
                return
            status = 0  # for the access line (uvicorn's, through logging, cost as much as the hop)

            async def answer(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            await self._http(scope, receive, answer)
            if status:
                sys.stdout.write(access_line(scope, status))
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        else:  # websockets are not routed
            await send({"type": "websocket.close", "code": 1008})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                timeout = httpx.Timeout(self.settings.timeout_seconds, connect=CONNECT_SECONDS)
                self.client = httpx.AsyncClient(transport=self.transport, timeout=timeout)
                self.forwarder = (
                    WireForwarder(
                        timeout=self.settings.timeout_seconds, connect_timeout=CONNECT_SECONDS
                    )
                    if self.transport is None
                    else TransportForwarder(self.transport, timeout)
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.client is not None:
                    await self.client.aclose()
                    self.client = None
                if self.forwarder is not None:
                    await self.forwarder.aclose()
                    self.forwarder = None
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(raw=scope["headers"])
        path: str = scope["path"]
        method: str = scope["method"]
        correlation = correlation_id(headers.get(CORRELATION_HEADER))
        origin = headers.get("origin")
        cors = self._cors(origin)
        if method == "OPTIONS" and origin and "access-control-request-method" in headers:
            await self._preflight(send, cors, headers, correlation, path)
            return
        if path == "/health/live":
            await _json(send, 200, {"status": "ok", "service": "edge"}, cors, correlation)
            return
        if path == "/health/ready":
            await self._ready(send, cors, correlation, path)
            return
        wait = self.limiter.acquire(_client_ip(scope))
        if wait:
            limited = TooManyRequests(
                "This client sends too many requests", retry_after=max(1, math.ceil(wait))
            )
            retry = [(k.lower().encode(), v.encode()) for k, v in limited.headers.items()]
            await _problem(send, limited.body(path), [*cors, *retry], correlation)
            return
        if (path in ("/docs", "/openapi.json") or path.startswith(DOCS_ASSETS)) and method in (
            "GET",
            "HEAD",
        ):
            await self._docs(path, send, cors, correlation)
            return
        upstream = self.routes.resolve(path)
        if upstream is None:
            missing = NotFound(f"No public route for {path}")
            await _problem(send, missing.body(path), cors, correlation)
            return
        await self._proxy(scope, receive, send, upstream, cors, correlation)

    def _cors(self, origin: str | None) -> RawHeaders:
        if not origin:
            return []
        if origin.rstrip("/") not in self.origins and "*" not in self.origins:
            return [(b"vary", b"Origin")]
        return [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-credentials", b"true"),
            (b"access-control-expose-headers", EXPOSED_HEADERS),
            (b"vary", b"Origin"),
        ]

    async def _preflight(
        self, send: Send, cors: RawHeaders, headers: Headers, correlation: str, path: str
    ) -> None:
        if not any(name == b"access-control-allow-origin" for name, _ in cors):
            detail = "This origin may not call the API"
            body = problem(403, "cors-origin-not-allowed", "Origin not allowed", detail, path)
            await _problem(send, body, cors, correlation)
            return
        allowed = [
            *cors,
            (b"access-control-allow-methods", ALLOWED_METHODS),
            (b"access-control-max-age", b"600"),
        ]
        requested = headers.get("access-control-request-headers")
        if requested:
            allowed.append((b"access-control-allow-headers", requested.encode("latin-1")))
        await _send(send, 204, b"", allowed, correlation)

    async def _proxy(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        upstream: Upstream,
        cors: RawHeaders,
        correlation: str,
    ) -> None:
        path: str = scope["path"]
        limit = self.settings.max_body_bytes
        try:
            body = await _read_body(receive, limit)
        except _ClientGone:
            return
        if body is None:
            detail = f"Request bodies are limited to {limit} bytes"
            large = problem(413, "payload-too-large", "Payload too large", detail, path)
            await _problem(send, large, cors, correlation)
            return
        raw_path: bytes = scope.get("raw_path") or quote(path).encode("ascii")
        query: bytes = scope.get("query_string", b"")
        target = raw_path + b"?" + query if query else raw_path
        client, scheme = _client_ip(scope), scope["scheme"]
        forwarded = forward_headers(
            scope["headers"], client=client, scheme=scheme, correlation=correlation
        )
        if self.forwarder is None:
            raise RuntimeError("the edge's lifespan has not run (serve it with uvicorn)")
        try:
            answer = await self.forwarder.forward(
                upstream.url, scope["method"], target, forwarded, body
            )
        except UpstreamError as exc:
            failure, extra = _upstream_failure(exc, upstream.service.name, path)
            await _problem(send, failure, [*cors, *extra], correlation)
            return
        length = None if scope["method"] == "HEAD" else len(answer.body)
        out = response_headers(answer.headers, length=length, correlation=correlation)
        if cors:
            out += cors
        await send({"type": "http.response.start", "status": answer.status, "headers": out})
        await send({"type": "http.response.body", "body": answer.body})

    def _client(self) -> httpx.AsyncClient:
        if self.client is None:
            raise RuntimeError("the edge's lifespan has not run (serve it with uvicorn)")
        return self.client

    async def _ready(self, send: Send, cors: RawHeaders, correlation: str, path: str) -> None:
        """Ready when every upstream is routable: its process answers
        ``/health/live``. (Each service's own ``/health/ready`` says whether its
        dependencies answer; the edge only says whether it can route.)"""
        upstreams = self.routes.upstreams

        async def probe(upstream: Upstream) -> str:
            try:
                response = await self._client().get(f"{upstream.url}/health/live", timeout=2.0)
            except httpx.HTTPError as exc:
                return f"failed: {type(exc).__name__}"
            return "ok" if response.status_code < 500 else f"failed: {response.status_code}"

        results = dict(
            zip(
                (u.service.name for u in upstreams),
                await asyncio.gather(*map(probe, upstreams)),
                strict=True,
            )
        )
        if all(result == "ok" for result in results.values()):
            await _json(send, 200, {"status": "ready", "upstreams": results}, cors, correlation)
            return
        detail = "Not every service behind the edge answers"
        body = problem(503, "not-ready", "The edge is not ready", detail, path, upstreams=results)
        await _problem(send, body, [*cors, (b"retry-after", b"1")], correlation)

    async def _docs(self, path: str, send: Send, cors: RawHeaders, correlation: str) -> None:
        if path == "/docs":
            html = [(b"content-type", b"text/html; charset=utf-8"), *cors]
            await _send(send, 200, swagger_page(), html, correlation)
            return
        if path.startswith(DOCS_ASSETS):
            asset = swagger_asset(path.removeprefix(DOCS_ASSETS))
            if asset is None:
                missing = NotFound(f"No such documentation asset: {path}")
                await _problem(send, missing.body(path), cors, correlation)
                return
            content, media_type = asset
            headers = [
                (b"content-type", media_type.encode()),
                (b"cache-control", b"public, max-age=86400"),
                *cors,
            ]
            await _send(send, 200, content, headers, correlation)
            return
        await _json(send, 200, await self.openapi(), cors, correlation)

    async def openapi(self) -> dict[str, Any]:
        """The merged public API of the services behind this edge, with their
        local-only ``/dev/`` routes (routed locally). Cached once all answered."""
        if self._openapi is not None:
            return self._openapi
        upstreams = self.routes.upstreams

        async def fetch(upstream: Upstream) -> dict[str, Any] | None:
            try:
                response = await self._client().get(f"{upstream.url}/openapi.json", timeout=5.0)
                response.raise_for_status()
                document: dict[str, Any] = response.json()
            except (httpx.HTTPError, ValueError):
                return None
            return document

        fetched = dict(zip(upstreams, await asyncio.gather(*map(fetch, upstreams)), strict=True))
        missing = [u.service.name for u, document in fetched.items() if document is None]
        note = f" Not answering yet (reload later): {', '.join(missing)}." if missing else ""
        merged = merge_openapi(
            [(u.service, document) for u, document in fetched.items() if document is not None],
            include_dev=True,
            servers=[{"url": self.settings.public_url}],
            description=f"The services of this local run.{note}",
        )
        if not missing:
            self._openapi = merged
        return merged


def create_edge(
    routes: Routes,
    settings: EdgeSettings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Edge:
    """The edge over ``routes``. ``transport`` replaces the network to the
    services (tests inject their upstreams); ``clock`` drives the rate limiter."""
    return Edge(routes, settings or EdgeSettings(), transport, clock)


def from_environment() -> Edge:
    """The uvicorn factory (``--factory mindlinks_dev.edge:from_environment``)."""
    from mindlinks_fleet import FLEET

    settings = EdgeSettings()
    names = settings.services
    if names is None:
        names = [service.name for service in FLEET.services]
    routes = routes_for(FLEET, names, settings.peer_url_template, settings.port_offset)
    return create_edge(routes, settings)


def _client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _upstream_failure(
    exc: UpstreamError, service: str, path: str
) -> tuple[dict[str, Any], RawHeaders]:
    if isinstance(exc, Unreachable):
        down = PeerUnavailable(f"The {service} service is not answering", service=service)
        return down.body(path), [(b"retry-after", b"5")]
    if isinstance(exc, TimedOut):
        detail = f"The {service} service did not answer in time"
        return problem(504, "gateway-timeout", "Gateway timeout", detail, path, service=service), []
    detail = f"The {service} service answered with a broken response"
    return problem(502, "bad-gateway", "Bad gateway", detail, path, service=service), []


async def _send(
    send: Send, status: int, body: bytes, headers: RawHeaders, correlation: str
) -> None:
    length = (b"content-length", str(len(body)).encode())
    correlated = (CORRELATION_HEADER.encode(), correlation.encode("latin-1"))
    start = {"type": "http.response.start", "status": status}
    await send({**start, "headers": [*headers, length, correlated]})
    await send({"type": "http.response.body", "body": body})


async def _json(
    send: Send,
    status: int,
    body: Mapping[str, Any],
    headers: RawHeaders,
    correlation: str,
    media_type: bytes = b"application/json",
) -> None:
    content = json.dumps(body, separators=(",", ":")).encode()
    await _send(send, status, content, [(b"content-type", media_type), *headers], correlation)


async def _problem(
    send: Send, body: Mapping[str, Any], headers: RawHeaders, correlation: str
) -> None:
    """An RFC 9457 problem (``mindlinks_kit.errors.problem_body``)."""
    await _json(send, body["status"], body, headers, correlation, PROBLEM_JSON.encode())


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body; None when it is larger than ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
