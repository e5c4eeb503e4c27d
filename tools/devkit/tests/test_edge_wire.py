"""The edge's own client to the services (``mindlinks_dev.edge.wire``) over
real loopback sockets, against scripted servers that answer byte for byte:
well, in pieces, badly, late or not at all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import pytest
from asgi_lifespan import LifespanManager

from mindlinks_dev.edge import EdgeSettings, create_edge, routes_for
from mindlinks_dev.edge.forwarding import Broken, TimedOut, Unreachable
from mindlinks_dev.edge.wire import IDLE_SECONDS, WireForwarder
from mindlinks_fleet import FLEET

OK = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nhi"

Script = Callable[[int, int, bytes], Awaitable[bytes | None]]
"""(connection number, request number on it, the request) → the bytes to
answer; None closes the connection without answering."""


@dataclass
class Scripted:
    port: int
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0


@asynccontextmanager
async def scripted(script: Script, *, close_after: bool = False) -> AsyncIterator[Scripted]:
    """A server on a free loopback port that reads whole requests (headers and
    a ``content-length`` body) and answers each as ``script`` says."""
    seen = Scripted(port=0)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.connections += 1
        number, asked = seen.connections, 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.lower().split(b"\r\n")
                        if line.startswith(b"content-length:")
                    ),
                    0,
                )
                request = head + await reader.readexactly(length)
                seen.requests.append(request)
                asked += 1
                answer = await script(number, asked, request)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    seen.port = server.sockets[0].getsockname()[1]
    async with server:
        yield seen


async def always(answer: bytes) -> Script:
    async def script(connection: int, asked: int, request: bytes) -> bytes | None:
        return answer

    return script


def wire(timeout: float = 5.0) -> WireForwarder:
    return WireForwarder(timeout=timeout, connect_timeout=2.0)


async def test_sends_the_request_as_given_and_keeps_the_connection() -> None:
    async with scripted(await always(OK)) as server:
        forwarder = wire()
        base = f"http://127.0.0.1:{server.port}"
        headers = [(b"authorization", b"Bearer t"), (b"x-forwarded-for", b"203.0.113.7")]
        answer = await forwarder.forward(base, "POST", b"/v1/users/me?a=1", headers, b'{"x":1}')
        again = await forwarder.forward(base, "GET", b"/v1/users/me", [], b"")
        await forwarder.aclose()
    assert (answer.status, answer.body) == (200, b"hi")
    assert answer.headers == [(b"content-type", b"text/plain"), (b"content-length", b"2")]
    assert again.body == b"hi"
    assert server.requests == [
        b"POST /v1/users/me?a=1 HTTP/1.1\r\nhost: 127.0.0.1:%d\r\nauthorization: Bearer t\r\n"
        b'x-forwarded-for: 203.0.113.7\r\ncontent-length: 7\r\n\r\n{"x":1}' % server.port,
        b"GET /v1/users/me HTTP/1.1\r\nhost: 127.0.0.1:%d\r\n\r\n" % server.port,
    ]
    assert server.connections == 1


@pytest.mark.parametrize(
    ("answer", "body"),
    [
        (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            b"abcde",
        ),
        (b"HTTP/1.1 201 Created\r\nconnection: close\r\n\r\nuntil the end", b"until the end"),
        (b"HTTP/1.1 100 Continue\r\n\r\n" + OK, b"hi"),
    ],
    ids=["chunked", "ends-at-close", "after-100-continue"],
)
async def test_reads_every_way_a_body_can_be_framed(answer: bytes, body: bytes) -> None:
    async with scripted(await always(answer), close_after=True) as server:
        got = await wire().forward(f"http://127.0.0.1:{server.port}", "GET", b"/x", [], b"")
    assert got.body == body


async def test_a_head_answer_has_no_body_whatever_its_length_says() -> None:
    async with scripted(await always(OK[:-2])) as server:
        got = await wire().forward(f"http://127.0.0.1:{server.port}", "HEAD", b"/x", [], b"")
    assert (got.status, got.body) == (200, b"")
    assert (b"content-length", b"2") in got.headers


async def test_a_port_nobody_listens_on_is_unreachable() -> None:
    async with scripted(await always(OK)) as server:
        port = server.port
    with pytest.raises(Unreachable):
        await wire().forward(f"http://127.0.0.1:{port}", "GET", b"/x", [], b"")


async def test_an_answer_that_does_not_come_in_time() -> None:
    async def slow(connection: int, asked: int, request: bytes) -> bytes:
        await asyncio.sleep(1)
        return OK

    async with scripted(slow) as server:
        with pytest.raises(TimedOut):
            await wire(timeout=0.1).forward(f"http://127.0.0.1:{server.port}", "GET", b"/", [], b"")


@pytest.mark.parametrize(
    "answer",
    [b"SSH-2.0-OpenSSH_9.6\r\n\r\n", OK[:-1], None],
    ids=["not-http", "cut-short", "closed-without-answer"],
)
async def test_a_broken_answer(answer: bytes | None) -> None:
    async def script(connection: int, asked: int, request: bytes) -> bytes | None:
        return answer

    async with scripted(script, close_after=True) as server:
        with pytest.raises(Broken):
            await wire().forward(f"http://127.0.0.1:{server.port}", "GET", b"/", [], b"")


async def test_a_kept_connection_closed_under_a_request_is_retried_only_if_idempotent() -> None:
    """The service closed a kept-alive connection as the request went out:
    a GET goes again on a new one; a POST may have been acted on, so it is a 502."""

    async def drops_the_second(connection: int, asked: int, request: bytes) -> bytes | None:
        return None if asked == 2 else OK

    async with scripted(drops_the_second) as server:
        forwarder, base = wire(), f"http://127.0.0.1:{server.port}"
        await forwarder.forward(base, "GET", b"/", [], b"")
        assert (await forwarder.forward(base, "GET", b"/", [], b"")).body == b"hi"
        with pytest.raises(Broken):
            await forwarder.forward(base, "POST", b"/", [], b"{}")
        await forwarder.aclose()
    assert server.connections == 2
    assert len(server.requests) == 4


async def test_a_kept_connection_that_is_closing_is_passed_over() -> None:
    """Closed on this side, its loss not yet delivered by the loop: a POST
    takes a new connection rather than failing on that one."""
    async with scripted(await always(OK)) as server:
        forwarder, base = wire(), f"http://127.0.0.1:{server.port}"
        await forwarder.forward(base, "POST", b"/", [], b"{}")
        for kept in forwarder._idle[base]:
            assert kept.transport is not None
            kept.transport.close()
        assert (await forwarder.forward(base, "POST", b"/", [], b"{}")).body == b"hi"
        await forwarder.aclose()
    assert server.connections == 2


async def test_a_connection_idle_near_the_services_keep_alive_is_not_used_again() -> None:
    """A service's uvicorn closes a connection after 5 s idle; one idle for
    ``IDLE_SECONDS`` is closed here first, so a POST never races that close."""
    async with scripted(await always(OK)) as server:
        forwarder, base = wire(), f"http://127.0.0.1:{server.port}"
        await forwarder.forward(base, "POST", b"/", [], b"{}")
        await forwarder.forward(base, "POST", b"/", [], b"{}")
        assert server.connections == 1
        for kept in forwarder._idle[base]:
            kept.idle_since -= IDLE_SECONDS
        assert (await forwarder.forward(base, "POST", b"/", [], b"{}")).body == b"hi"
        await forwarder.aclose()
    assert server.connections == 2


@asynccontextmanager
async def edge_to(port: int, **settings: float) -> AsyncIterator[httpx.AsyncClient]:
    """The edge as it runs (no injected transport), with user on ``port``."""
    offset = port - FLEET.service("user").port
    routes = routes_for(FLEET, ["user"], "http://127.0.0.1:{port}", offset)
    app = create_edge(routes, EdgeSettings(rate_per_second=0, **settings))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8080") as c:
            yield c


async def test_the_edge_proxies_through_it() -> None:
    answer = b"HTTP/1.1 200 OK\r\nset-cookie: a=1\r\nset-cookie: b=2\r\ncontent-length: 2\r\n\r\nhi"
    async with scripted(await always(answer)) as server, edge_to(server.port) as edge:
        response = await edge.get("/v1/users/me?x=1", headers={"x-correlation-id": "c-1"})
    assert (response.status_code, response.text) == (200, "hi")
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert response.headers["x-correlation-id"] == "c-1"
    request = server.requests[0]
    assert request.startswith(b"GET /v1/users/me?x=1 HTTP/1.1\r\nhost: 127.0.0.1:")
    assert b"\r\nx-forwarded-for: 203.0.113.7\r\n" in request
    assert b"\r\nx-correlation-id: c-1\r\n" in request


@pytest.mark.parametrize(
    ("answer", "status", "code"),
    [(b"garbage\r\n\r\n", 502, "bad-gateway"), (b"", 504, "gateway-timeout")],
)
async def test_the_edge_turns_failures_into_problems(answer: bytes, status: int, code: str) -> None:
    async def script(connection: int, asked: int, request: bytes) -> bytes | None:
        if not answer:
            await asyncio.sleep(1)
        return answer

    async with scripted(script) as server, edge_to(server.port, timeout_seconds=0.1) as edge:
        response = await edge.get("/v1/users/me")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert response.json()["service"] == "user"


async def test_the_edge_answers_503_for_a_service_that_is_down() -> None:
    async with scripted(await always(OK)) as server:
        port = server.port
    async with edge_to(port) as edge:
        response = await edge.get("/v1/users/me")
    assert response.status_code == 503
    assert response.json()["code"] == "peer-unavailable"
    assert response.headers["retry-after"] == "5"
