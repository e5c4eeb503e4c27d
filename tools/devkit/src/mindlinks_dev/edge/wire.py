"""The edge's HTTP/1.1 client to the services: keep-alive connections per
service, the request written in one piece and the answer parsed by httptools
(uvicorn's own parser) straight from asyncio's protocol callbacks.

Why not httpx here: its client, httpcore and anyio cost ~1.9 ms CPU per
proxied request on the bench machine, 8x the edge's own route (the profile is
in docs/profiles.md). A proxy needs little of a client: no cookies, redirects,
auth, decoding or header validation (uvicorn has parsed what it forwards).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from functools import lru_cache
from typing import cast
from urllib.parse import urlsplit

import httptools

from mindlinks_dev.edge.forwarding import (
    Answer,
    Broken,
    RawHeaders,
    TimedOut,
    Unreachable,
)

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
"""Methods sent again on a fresh connection when a kept-alive one turns out
closed before any answer (RFC 9110 9.2.2); others answer 502 then."""
IDLE_SECONDS = 4.0
"""A connection idle longer is not used again: a service's uvicorn closes
one after 5 s idle, and a POST sent as it closes could only answer 502."""


class _Closed(Broken):
    """The connection closed before any byte of the answer."""


class _NotSent(_Closed):
    """The connection was closing: the request never went out."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection to a service, one exchange at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = True
        self.idle_since = 0.0
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[Answer] | None = None
        self._head = False
        self._started = False
        self._status = 0
        self._framed = True
        self._headers: RawHeaders = []
        self._chunks: list[bytes] = []

    async def exchange(self, request: bytes, *, head: bool, timeout: float) -> Answer:
        assert self.transport is not None, "not connected"
        assert self._waiter is None, "one exchange at a time"
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Answer] = loop.create_future()
        self._waiter = waiter
        self._head, self._started, self._status = head, False, 0
        self._headers, self._chunks = [], []
        try:
            self.transport.write(request)
        except (OSError, RuntimeError) as exc:  # closing, its loss not yet delivered
            self._waiter = None
            raise _NotSent(f"closed before the request went out: {exc!r}") from exc
        timer = loop.call_later(timeout, self._time_out)
        try:
            return await waiter
        finally:
            timer.cancel()
            self._waiter = None

    @property
    def usable(self) -> bool:
        """Open, as far as the loop has told (a closing one has not yet), and
        not idle so long that the service may be closing it."""
        transport = self.transport
        fresh = time.monotonic() - self.idle_since < IDLE_SECONDS
        return fresh and not self.closed and transport is not None and not transport.is_closing()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._waiter.done():  # nothing was asked
            self.reusable = False
            self.close()
            return
        self._started = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:  # an upgrade included
            self._fail(Broken(f"not an HTTP answer: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is None or self._waiter.done():
            return
        if not self._started:
            self._fail(_Closed("closed before answering"))
        elif self._status and not self._framed:  # a body that ends at the close
            self._complete()
        else:
            self._fail(Broken("closed in the middle of its answer"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self._status = status = self._parser.get_status_code()
        self._framed = (
            status < 200
            or status in (204, 304)
            or any(name in (b"content-length", b"transfer-encoding") for name, _ in self._headers)
        )
        if self._head and status >= 200:  # the parser does not know a HEAD has no body
            self.reusable = False
            self._complete()

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)

    def on_message_complete(self) -> None:
        if self._status < 200:  # 100 Continue and the like: the answer follows
            self._headers, self._status = [], 0
            return
        self.reusable = self.reusable and self._parser.should_keep_alive()
        self._complete()

    def _complete(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            chunks = self._chunks
            body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            waiter.set_result(Answer(self._status, self._headers, body))

    def _fail(self, error: Exception) -> None:
        self.reusable = False
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)

    def _time_out(self) -> None:
        self._fail(TimedOut("no whole answer in time"))


@lru_cache(maxsize=64)
def _address(base_url: str) -> tuple[str, int, bytes]:
    """``http://127.0.0.1:3002`` → host, port and the ``host`` header's value."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"the edge forwards over plain HTTP on loopback, not to {base_url}")
    port = parts.port or 80
    return parts.hostname, port, parts.netloc.encode("ascii")


def _request(method: str, target: bytes, host: bytes, headers: RawHeaders, body: bytes) -> bytes:
    """The request in one piece. Header names and values are as uvicorn parsed
    them (no CR or LF can be in them); the body's length is set here."""
    pieces = [method.encode("ascii"), b" ", target, b" HTTP/1.1\r\nhost: ", host]
    for name, value in headers:
        pieces += (b"\r\n", name, b": ", value)
    if body:
        pieces += (b"\r\ncontent-length: ", str(len(body)).encode("ascii"))
    pieces += (b"\r\n\r\n", body)
    return b"".join(pieces)


class WireForwarder:
    """Keeps at most ``keep`` idle connections per service (a service's
    uvicorn closes them after 5 s idle); connects within ``connect_timeout``
    and wants the whole answer within ``timeout`` of sending."""

    def __init__(self, *, timeout: float, connect_timeout: float, keep: int = 50) -> None:
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.keep = keep
        self._idle: dict[str, deque[_Connection]] = {}

    async def forward(
        self, base_url: str, method: str, target: bytes, headers: RawHeaders, body: bytes
    ) -> Answer:
        host, port, host_header = _address(base_url)
        request = _request(method, target, host_header, headers, body)
        head = method == "HEAD"
        idle = self._idle.setdefault(base_url, deque())
        while idle:
            connection = idle.pop()
            if not connection.usable:
                connection.close()
                continue
            try:
                return await self._exchange(idle, connection, request, head)
            except _Closed as closed:
                if method not in IDEMPOTENT and not isinstance(closed, _NotSent):
                    raise
                break  # it went stale under us: once more on a new connection
        connection = await self._connect(host, port)
        return await self._exchange(idle, connection, request, head)

    async def _exchange(
        self, idle: deque[_Connection], connection: _Connection, request: bytes, head: bool
    ) -> Answer:
        try:
            answer = await connection.exchange(request, head=head, timeout=self.timeout)
        except BaseException:  # cancelled too: its state is unknown
            connection.close()
            raise
        if connection.reusable and not connection.closed and len(idle) < self.keep:
            connection.idle_since = time.monotonic()
            idle.append(connection)
        else:
            connection.close()
        return answer

    async def _connect(self, host: str, port: int) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, connection = await loop.create_connection(_Connection, host, port)
        except (OSError, TimeoutError) as exc:
            raise Unreachable(f"no connection to {host}:{port}: {exc!r}") from exc
        return connection

    async def aclose(self) -> None:
        for idle in self._idle.values():
            while idle:
                idle.pop().close()
