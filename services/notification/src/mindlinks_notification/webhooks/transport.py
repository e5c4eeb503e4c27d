"""Sending one delivery attempt, to a checked address only.

``GuardedBackend`` is the httpcore network backend of the webhook client: on
every new connection it resolves the host itself, refuses the connection
unless every address the name resolves to is allowed (``AddressPolicy``),
and connects to the checked address — so what was checked is what is
reached, and a DNS answer that changes between check and connect (DNS
rebinding) cannot lead anywhere else. TLS still verifies the certificate
against the URL's host name: httpcore starts TLS with the origin's host as
server name, whatever address the socket was opened to.

The client follows no redirects, reads no proxy settings from the
environment (a proxy would connect elsewhere), times out quickly and never
reads a response body.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import httpcore
import httpx

from mindlinks_notification.webhooks.addresses import (
    AddressPolicy,
    AddressRefused,
    IPAddress,
    ip_literal,
)

Resolve = Callable[[str, int], Awaitable[list[IPAddress]]]
USER_AGENT = "Mind-Links-Webhooks/1"


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (a literal resolves to itself)."""
    literal = ip_literal(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    answers = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, address in answers:
        parsed = ip_literal(str(address[0]).split("%", 1)[0])
        if parsed is not None and parsed not in found:
            found.append(parsed)
    return found


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(
        self,
        policy: AddressPolicy,
        resolver: Resolve = resolve,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.policy = policy
        self.resolver = resolver
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await asyncio.wait_for(self.resolver(host, port), timeout)
        except (OSError, TimeoutError) as exc:
            raise httpcore.ConnectError(f"could not resolve {host}") from exc
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address")
        for address in addresses:  # all of them: which one is used is not ours to pick
            if not self.policy.allows(address):
                raise AddressRefused(f"{host} resolves to a non-public address")
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("webhooks do not go to local sockets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool on a ``GuardedBackend``
    (httpx takes no network backend of its own, so the pool is replaced)."""

    def __init__(
        self,
        backend: GuardedBackend,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 50,
    ) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            max_keepalive_connections=10,
            keepalive_expiry=30.0,
            network_backend=backend,
        )


def guarded_client(
    policy: AddressPolicy, timeout_seconds: float, ssl_context: ssl.SSLContext | None = None
) -> httpx.AsyncClient:
    """The only client webhooks are sent with (ADR 0016)."""
    return httpx.AsyncClient(
        transport=GuardedTransport(GuardedBackend(policy), ssl_context),
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 5.0)),
        headers={"User-Agent": USER_AGENT},
    )


@dataclass(frozen=True)
class Sent:
    status_code: int | None
    latency_ms: int
    error: str | None
    refused: bool = False

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def post(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    headers: dict[str, str],
    deadline_seconds: float = 10.0,
) -> Sent:
    """One POST; any 2xx is a delivery. Only the status is read: the
    response body is neither read nor kept (a redirect is a failure). The
    whole attempt ends by ``deadline_seconds`` (httpx's timeouts are per
    phase: a receiver answering a byte at a time would outlast them)."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        async with (
            asyncio.timeout(deadline_seconds),
            client.stream("POST", url, content=body, headers=headers) as response,
        ):
            status = response.status_code
    except AddressRefused:
        return Sent(None, elapsed(), "address-refused", refused=True)
    except (httpx.TimeoutException, TimeoutError):
        return Sent(None, elapsed(), "timeout")
    except httpx.HTTPError as exc:
        return Sent(None, elapsed(), f"connection-failed: {type(exc).__name__}")
    error = None if 200 <= status < 300 else f"http-{status}"
    return Sent(status, elapsed(), error)
