"""What the edge needs of a client to the services, and the two it has.

A ``Forwarder`` sends one request as the edge received it and gives back the
whole answer, or raises one of three failures the edge turns into problems:
``Unreachable`` (503), ``TimedOut`` (504), ``Broken`` (502). ``WireForwarder``
(``mindlinks_dev.edge.wire``) is the one that runs; ``TransportForwarder``
sends through an httpx transport, so tests put in-process apps behind the edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Protocol

import httpx

RawHeaders = list[tuple[bytes, bytes]]


class UpstreamError(Exception):
    """The service gave no usable answer."""


class Unreachable(UpstreamError):
    """No connection to the service (refused, or not made in time)."""


class TimedOut(UpstreamError):
    """Connected, but the whole answer did not come in time."""


class Broken(UpstreamError):
    """The answer was not HTTP, or it ended early."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: RawHeaders
    """As the service sent them, names lower-cased."""
    body: bytes
    """As sent (still compressed if it was; de-chunked)."""


class Forwarder(Protocol):
    async def forward(
        self, base_url: str, method: str, target: bytes, headers: RawHeaders, body: bytes
    ) -> Answer:
        """``method target`` (the raw path and query) at ``base_url``
        (``http://host:port``), with exactly ``headers`` beside ``host`` and
        the body's length."""
        ...

    async def aclose(self) -> None: ...


class TransportForwarder:
    """Through an httpx client on ``transport``."""

    def __init__(self, transport: httpx.AsyncBaseTransport, timeout: httpx.Timeout) -> None:
        # One client for every caller: it must keep no caller's cookies.
        cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        self.client = httpx.AsyncClient(transport=transport, timeout=timeout, cookies=cookies)

    async def forward(
        self, base_url: str, method: str, target: bytes, headers: RawHeaders, body: bytes
    ) -> Answer:
        url = httpx.URL(base_url).copy_with(raw_path=target)
        # Built by hand, not by the client: its default headers (user agent,
        # accept-encoding) must not be added to what the caller sent.
        request = httpx.Request(method, url, headers=headers, content=body)
        try:
            response = await self.client.send(request, stream=True)
            try:
                if response.is_stream_consumed:  # an in-memory response
                    content = response.content
                else:
                    content = b"".join([chunk async for chunk in response.aiter_raw()])
            finally:
                await response.aclose()
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Unreachable(str(exc)) from exc
        except httpx.TimeoutException as exc:
            raise TimedOut(str(exc)) from exc
        except httpx.HTTPError as exc:
            raise Broken(str(exc)) from exc
        return Answer(response.status_code, list(response.headers.raw), content)

    async def aclose(self) -> None:
        await self.client.aclose()
