"""The request middleware, pure ASGI (``@app.middleware("http")`` costs ~10x more).

One pass per request: correlation id in and out, the caller's trace context
continued in a server span, one structured access-log line and the request's
EMF metrics.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import structlog
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mindlinks_kit.context import RequestContext, current
from mindlinks_kit.observability import Metrics

CORRELATION_HEADER = "x-correlation-id"
_QUIET_PREFIX = "/health/"
log = structlog.get_logger("mindlinks.request")


class RequestMiddleware:
    def __init__(self, app: ASGIApp, *, tracer: trace.Tracer, metrics: Metrics) -> None:
        self.app = app
        self.tracer = tracer
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        correlation_id = headers.get(CORRELATION_HEADER) or uuid.uuid4().hex
        if len(correlation_id) > 128 or not correlation_id.isprintable():
            correlation_id = uuid.uuid4().hex
        ctx = RequestContext(correlation_id=correlation_id)
        token = current.set(ctx)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (CORRELATION_HEADER.encode(), correlation_id.encode()),
                ]
            await send(message)

        parent = propagate.extract(headers)
        try:
            with self.tracer.start_as_current_span(
                f"{scope['method']} {scope['path']}", context=parent, kind=SpanKind.SERVER
            ) as span:
                await self.app(scope, receive, send_with_id)
                span.set_attribute("http.response.status_code", status)
        finally:
            current.reset(token)
            if not scope["path"].startswith(_QUIET_PREFIX):
                self._record(scope, status, (time.perf_counter() - started) * 1000, ctx)

    def _record(self, scope: Scope, status: int, duration_ms: float, ctx: RequestContext) -> None:
        route = _route_template(scope)
        log.info(
            "request",
            method=scope["method"],
            route=route,
            status=status,
            duration_ms=round(duration_ms, 2),
            correlation_id=ctx.correlation_id,
            user_id=ctx.user_id,
        )
        self.metrics.emit(
            {
                "RequestCount": 1,
                "ErrorCount": 1 if status >= 500 else 0,
                "Latency": round(duration_ms, 2),
            },
            {"Route": f"{scope['method']} {route}"},
        )


def _route_template(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
