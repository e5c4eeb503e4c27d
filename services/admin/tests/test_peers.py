"""How peers' answers reach the admin, without I/O: refusals keep their status
(or become a 502 when they are the admin service's own fault), failures of a
gathering view's sources become ``partial`` entries."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mindlinks_admin.peers import (
    Missing,
    PeerAnswer,
    bad_answer,
    one_source,
    refusal,
    settle,
)
from mindlinks_fleet.internal import contract
from mindlinks_kit.errors import PeerUnavailable
from mindlinks_kit.http import Peers, ServiceTokens


def answer(status: int, body: object = None, text: str | None = None) -> httpx.Response:
    if text is not None:
        return httpx.Response(status, text=text)
    return httpx.Response(status, json=body)


@pytest.mark.parametrize(
    ("peer", "admin"), [(400, 422), (404, 404), (409, 409), (410, 409), (422, 422)]
)
def test_refusals_keep_their_status_and_code(peer: int, admin: int) -> None:
    problem = refusal("kyc", answer(peer, {"code": "session-expired", "detail": "Too late"}))
    body = problem.body("/v1/admin/x")
    assert (body["status"], body["code"]) == (admin, "session-expired")
    assert body["detail"] == "kyc: Too late"
    assert body["service"] == "kyc"
    assert body["type"].endswith("/session-expired")


@pytest.mark.parametrize("peer", [401, 403, 413, 429])
def test_refusals_that_are_ours_to_fix_are_502(peer: int) -> None:
    body = refusal("auth", answer(peer, {"code": "forbidden", "detail": "no"})).body()
    assert (body["status"], body["code"]) == (502, "peer-error")
    assert body["detail"] == f"auth answered {peer} (forbidden): no"


async def test_odd_answers_never_leak_or_crash() -> None:
    body = refusal("user", answer(404, text="<html>nginx</html>")).body()
    assert (body["status"], body["code"], body["detail"]) == (404, "not-found", "user answered 404")
    weird = refusal("user", answer(409, {"code": "Not A Code!", "detail": 7})).body()
    assert (weird["code"], weird["detail"]) == ("conflict", "user answered 409")
    peers = Peers(
        template="http://{name}:{port}",
        ports={"contract": 1},
        allowed={"contract"},
        client=httpx.AsyncClient(
            transport=httpx.MockTransport(lambda _: answer(200, {"items": "nope"}))
        ),
        service="admin",
    )
    peers.tokens = ServiceTokens(token)
    peers.refusal, peers.unreadable = refusal, bad_answer  # as the admin's setup does
    with pytest.raises(PeerAnswer) as raised:
        await peers.call(contract.CONTRACTS)
    assert raised.value.body()["status"] == 502


async def token() -> tuple[str, float]:
    return "service-token", 1e12


async def test_settle_turns_failures_into_partial_entries() -> None:
    async def hang() -> int:
        await asyncio.sleep(10)
        return 1

    async def down() -> int:
        raise PeerUnavailable("kyc is unavailable", peer="kyc", reason="connection-failed")

    async def open_breaker() -> int:
        raise PeerUnavailable("kyc is unavailable", peer="kyc", reason="circuit-open")

    async def no_token() -> int:
        raise PeerUnavailable("auth is unavailable", peer="auth")

    async def refused() -> int:
        raise refusal("kyc", answer(409, {"code": "busy", "detail": "Busy"}))

    async def fine() -> int:
        return 7

    results = await asyncio.gather(
        settle("kyc", hang(), 0.05),
        settle("kyc", down(), 1),
        settle("kyc", open_breaker(), 1),
        settle("kyc", no_token(), 1),
        settle("kyc", refused(), 1),
        settle("kyc", fine(), 1),
    )
    *missing, ok = results
    assert ok == 7
    assert [(m.reason, m.detail) for m in missing if isinstance(m, Missing)] == [
        ("timeout", "kyc did not answer (timeout)"),
        ("connection-failed", "kyc did not answer (connection failed)"),
        ("circuit-open", "kyc did not answer (circuit open)"),
        ("unavailable", "kyc was not called: auth is unavailable"),
        ("refused", "kyc: Busy"),
    ]
    # A main source's refusal is passed on as it was; its absence is a 503.
    assert isinstance(missing[4], Missing)
    assert one_source(missing[4]).body()["status"] == 409
    assert isinstance(missing[1], Missing)
    assert one_source(missing[1]).body()["code"] == "peer-unavailable"
