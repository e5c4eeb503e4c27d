"""Webhook rules without I/O: which URLs and addresses are allowed, the
guarded connection (checked before any connect, on the address connected
to, TLS still for the host name), signatures, the retry schedule and when an
endpoint is disabled. No test here opens a connection to a private address."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import ssl
import time
import typing
from dataclasses import replace
from datetime import timedelta

import httpcore
import pytest

from mindlinks_kit import clock
from mindlinks_notification.webhooks import catalog, schemas
from mindlinks_notification.webhooks.addresses import (
    AddressPolicy,
    AddressRefused,
    EndpointUrlRefused,
    IPAddress,
    check_url,
)
from mindlinks_notification.webhooks.domain import (
    Attempt,
    Delivery,
    Endpoint,
    SealedSecret,
    after_attempt,
    after_outcome,
    must_disable,
    next_attempt,
    signature_header,
)
from mindlinks_notification.webhooks.transport import (
    GuardedBackend,
    GuardedTransport,
    guarded_client,
    post,
)

DEPLOYED = AddressPolicy(allow_loopback=False)
LOCAL = AddressPolicy(allow_loopback=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/in",
        "https://hooks.example.com:8443/in?x=1",
        "https://93.184.215.14/in",
        "https://[2606:4700::1111]/in",
    ],
)
def test_public_https_urls_are_allowed(url: str) -> None:
    assert check_url(url, DEPLOYED) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/in",
        "http://127.0.0.1:9000/in",
        "https://127.0.0.1/in",
        "https://localhost/in",
        "https://[::1]/in",
        "https://10.0.0.8/in",
        "https://172.16.5.4/in",
        "https://192.168.1.1/in",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.1.1/in",
        "https://0.0.0.0/in",
        "https://240.0.0.1/in",
        "https://224.0.0.251/in",
        "https://[ff02::1]/in",
        "https://[fe80::1]/in",
        "https://[fc00::1]/in",
        "https://[::ffff:192.168.0.1]/in",
        "https://192.0.2.10/in",
        "https://user:secret@hooks.example.com/in",
        "https://hooks.example.com/in#part",
        "ftp://hooks.example.com/in",
        "https:///in",
        "https://hooks.example.com:99999/in",
    ],
)
def test_other_urls_are_refused_when_deployed(url: str) -> None:
    with pytest.raises(EndpointUrlRefused):
        check_url(url, DEPLOYED)


def test_local_mode_allows_http_to_loopback_only() -> None:
    assert check_url("http://127.0.0.1:9000/in", LOCAL)
    assert check_url("http://localhost:9000/in", LOCAL)
    for url in ("http://hooks.example.com/in", "http://10.0.0.1/in", "https://192.168.1.1/in"):
        with pytest.raises(EndpointUrlRefused):
            check_url(url, LOCAL)


class Inner(httpcore.AsyncNetworkBackend):
    """Records where the guarded backend connects; opens nothing."""

    def __init__(self) -> None:
        self.connected: list[tuple[str, int]] = []
        self.tls_names: list[str | None] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connected.append((host, port))
        return Stream(self)

    async def sleep(self, seconds: float) -> None:
        return None


class Stream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: Inner) -> None:
        self.inner = inner

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.inner.tls_names.append(server_hostname)
        raise httpcore.ConnectError("stopped after recording the TLS server name")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        return None

    async def aclose(self) -> None:
        return None


def answers(*found: str) -> typing.Callable[[str, int], typing.Awaitable[list[IPAddress]]]:
    async def resolve(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address(a) for a in found]

    return resolve


@pytest.mark.parametrize(
    "resolved",
    [("10.1.2.3",), ("93.184.215.14", "192.168.0.7"), ("127.0.0.1",), ("::ffff:169.254.169.254",)],
)
async def test_a_name_resolving_to_a_private_address_is_refused_before_connecting(
    resolved: tuple[str, ...],
) -> None:
    inner = Inner()
    backend = GuardedBackend(DEPLOYED, answers(*resolved), inner)
    with pytest.raises(AddressRefused):
        await backend.connect_tcp("hooks.example.com", 443)
    assert inner.connected == []


async def test_the_checked_address_is_the_one_connected_to_and_tls_names_the_host() -> None:
    inner = Inner()
    backend = GuardedBackend(DEPLOYED, answers("93.184.215.14"), inner)
    async with httpcore.AsyncConnectionPool(network_backend=backend) as pool:
        with pytest.raises(httpcore.ConnectError):
            await pool.request("POST", "https://hooks.example.com/in", content=b"{}")
    assert inner.connected == [("93.184.215.14", 443)]
    assert inner.tls_names == ["hooks.example.com"]


async def test_a_rebinding_name_is_checked_again_on_each_connection() -> None:
    inner = Inner()
    seen = iter([["93.184.215.14"], ["10.0.0.1"]])

    async def rebinding(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address(a) for a in next(seen)]

    backend = GuardedBackend(DEPLOYED, rebinding, inner)
    await backend.connect_tcp("rebind.example.com", 443)
    with pytest.raises(AddressRefused):
        await backend.connect_tcp("rebind.example.com", 443)
    assert inner.connected == [("93.184.215.14", 443)]


async def test_a_refused_address_is_an_attempt_that_failed_without_a_request() -> None:
    import httpx

    inner = Inner()
    transport = GuardedTransport(GuardedBackend(DEPLOYED, answers("172.20.0.5"), inner))
    async with httpx.AsyncClient(transport=transport, follow_redirects=False) as client:
        sent = await post(client, "https://internal.example.com/in", b"{}", {})
    assert sent.refused
    assert not sent.delivered
    assert sent.error == "address-refused"
    assert sent.status_code is None
    assert inner.connected == []


def test_signatures_cover_the_timestamp_and_the_body_with_each_valid_secret() -> None:
    body = b'{"id":"e-1"}'
    header = signature_header(["whsec_new", "whsec_old"], 1_700_000_000, body)
    stamp, first, second = header.split(",")
    assert stamp == "t=1700000000"
    for field, secret in ((first, "whsec_new"), (second, "whsec_old")):
        expected = hmac.new(secret.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
        assert field == f"v1={expected}"
    other = signature_header(["whsec_new"], 1_700_000_001, body)
    assert other.split(",")[1] != first  # the timestamp is signed


def _endpoint() -> Endpoint:
    now = clock.now_iso()
    return Endpoint(
        id="e",
        company_id="c",
        url="https://hooks.example.com",
        event_types=("payment.funded",),
        enabled=True,
        secret=SealedSecret("x", now),
        created_at=now,
        updated_at=now,
        created_by_user_id="u",
    )


def _delivery() -> Delivery:
    return Delivery(
        id="d",
        endpoint_id="e",
        company_id="c",
        event_id="ev",
        event_type="payment.funded",
        body="{}",
        created_at=clock.now_iso(),
        status="pending",
        purge_at=0,
    )


def test_retries_back_off_exponentially_and_give_up_after_three_days() -> None:
    delivery = _delivery()
    at = clock.parse(delivery.created_at)
    gaps = []
    number = 1
    while (due := next_attempt(delivery, number, at)) is not None:
        gaps.append(int((due - at).total_seconds()))
        at, number = due, number + 1
    assert gaps == [60, 300, 1500, 7500, 37500, 86400, 86400]
    assert at - clock.parse(delivery.created_at) <= timedelta(days=3)
    assert number == 8  # attempts in all


def test_an_endpoint_is_disabled_only_after_three_days_without_a_success() -> None:
    delivery = _delivery()
    first = Attempt(no=1, at=delivery.created_at, outcome="failed", latency_ms=5, status_code=500)
    gave_up = after_attempt(delivery, first, None)
    assert gave_up.status == "failed"
    failing = after_outcome(_endpoint(), False, first.at)
    assert must_disable(failing, gave_up)
    # A success since that delivery's first attempt: the endpoint works again.
    later = clock.iso(clock.parse(first.at) + timedelta(hours=1))
    recovered = after_outcome(after_outcome(failing, True, later), False, later)
    assert not must_disable(recovered, gave_up)
    assert not must_disable(replace(failing, enabled=False), gave_up)


def test_the_public_types_are_those_the_api_accepts() -> None:
    body = {"url": "https://hooks.example.com", "eventTypes": list(catalog.TYPE_NAMES)}
    assert schemas.CreateEndpoint.model_validate(body).event_types == list(catalog.TYPE_NAMES)
    with pytest.raises(ValueError, match="not one of"):
        schemas.CreateEndpoint.model_validate({**body, "eventTypes": ["user.created"]})
    documented = schemas.CreateEndpoint.model_json_schema()["properties"]["eventTypes"]
    assert documented["items"]["enum"] == list(catalog.TYPE_NAMES)
    assert len({t.source for t in catalog.PUBLIC_TYPES}) == len(catalog.PUBLIC_TYPES)


async def test_an_attempt_ends_by_its_deadline_however_slowly_the_receiver_answers() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        await asyncio.sleep(5)  # never answers in time
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with guarded_client(LOCAL, timeout_seconds=30) as client:
            started = time.monotonic()
            sent = await post(client, f"http://127.0.0.1:{port}/", b"{}", {}, 0.3)
        assert time.monotonic() - started < 2
        assert sent.error == "timeout"
        assert not sent.delivered
    finally:
        server.close()
