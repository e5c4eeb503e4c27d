"""Calling peers: retries only when safe, a breaker per peer, a fast 503."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mindlinks_dev.harness import Running
from mindlinks_kit.errors import PeerUnavailable
from mindlinks_kit.http import Peers, ServiceTokens


class CountingTransport(httpx.AsyncBaseTransport):
    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.calls = 0
        self.headers: list[httpx.Headers] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        self.headers.append(request.headers)
        if self.behaviour == "hang":
            await asyncio.sleep(10)
        if self.behaviour == "error":
            return httpx.Response(503)
        return httpx.Response(200, json={"ok": True})


async def static_token() -> tuple[str, float]:
    return "service-token", 1e12


def peers(transport: CountingTransport, attempts: int = 3, fail_max: int = 3) -> Peers:
    result = Peers(
        template="http://{name}:{port}",
        ports={"beta": 1},
        allowed={"beta"},
        client=httpx.AsyncClient(transport=transport),
        timeout=0.05,
        attempts=attempts,
        fail_max=fail_max,
        reset_timeout=60,
    )
    result.tokens = ServiceTokens(static_token)
    return result


async def test_idempotent_calls_are_retried_and_others_are_not() -> None:
    failing = CountingTransport("error")
    client = peers(failing, fail_max=100)
    with pytest.raises(PeerUnavailable):
        await client.request("beta", "GET", "/x")
    assert failing.calls == 3
    with pytest.raises(PeerUnavailable):
        await client.request("beta", "GET", "/x", attempts=1)  # a probe: once
    assert failing.calls == 4
    with pytest.raises(PeerUnavailable):
        await client.request("beta", "POST", "/x", json={})
    assert failing.calls == 5  # a POST without an idempotency key is tried once
    with pytest.raises(PeerUnavailable):
        await client.request("beta", "POST", "/x", json={}, idempotency_key="k1")
    assert failing.calls == 8
    assert failing.headers[-1]["idempotency-key"] == "k1"
    assert failing.headers[-1]["authorization"] == "Bearer service-token"


async def test_a_peer_that_times_out_trips_its_breaker_and_callers_fail_fast() -> None:
    hanging = CountingTransport("hang")
    client = peers(hanging, attempts=1, fail_max=3)
    for _ in range(3):
        with pytest.raises(PeerUnavailable):
            await client.request("beta", "GET", "/slow")
    assert client.breaker_states() == {"beta": "open"}
    calls = hanging.calls
    with pytest.raises(PeerUnavailable, match="circuit open") as raised:
        await client.request("beta", "GET", "/slow")
    assert raised.value.extensions["reason"] == "circuit-open"
    assert hanging.calls == calls  # the open breaker answered without calling the peer


async def test_undeclared_peers_cannot_be_called() -> None:
    with pytest.raises(ValueError, match="not a declared peer"):
        await peers(CountingTransport("ok")).request("gamma", "GET", "/")


async def test_a_route_whose_peer_hangs_answers_503_problem(toy: Running) -> None:
    alpha = toy.runtime("alpha")
    hanging = CountingTransport("hang")
    alpha.peers.mount("beta", hanging)
    alpha.peers.tokens = ServiceTokens(static_token)
    alpha.peers.timeout = 0.05
    try:
        for _ in range(alpha.settings.breaker_fail_max + 1):
            response = await toy.client("alpha").get(
                "/v1/alphas/ask-beta", headers={"x-correlation-id": "c-1"}
            )
            assert response.status_code == 503
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == "peer-unavailable"
        assert alpha.peers.breaker_states()["beta"] == "open"
        assert hanging.headers[0]["x-correlation-id"] == "c-1"
        assert "x-amzn-trace-id" in hanging.headers[0]
    finally:
        alpha.peers.breakers["beta"].close()
        alpha.peers.mount("beta", httpx.ASGITransport(app=toy.apps["beta"]))
