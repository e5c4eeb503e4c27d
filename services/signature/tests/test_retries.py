"""Signing again is safe: an Idempotency-Key replays the answer, and a signing
interrupted at any step is finished by the next attempt — one ledger entry,
one move, one event."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from conftest import Parties


class Interrupted(httpx.AsyncBaseTransport):
    """The contract service, reached through a network that fails once on the
    matching request: before it arrives, or after it was applied (the answer lost)."""

    def __init__(self, app: object, method: str, suffix: str, *, applied: bool) -> None:
        self.inner = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        self.method = method
        self.suffix = suffix
        self.applied = applied
        self.pending = 1

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        hit = (
            self.pending > 0
            and request.method == self.method
            and request.url.path.endswith(self.suffix)
        )
        if hit:
            self.pending -= 1
            if not self.applied:
                raise httpx.ConnectError("connection reset", request=request)
        response = await self.inner.handle_async_request(request)
        if hit:
            await response.aread()
            return httpx.Response(502, json={"code": "bad-gateway"}, request=request)
        return response


@asynccontextmanager
async def interrupted(
    world: Parties, method: str, suffix: str, *, applied: bool
) -> AsyncIterator[None]:
    peers = world.fleet.runtime("signature").peers
    app = world.fleet.apps["contract"]
    peers.mount("contract", Interrupted(app, method, suffix, applied=applied))
    try:
        yield
    finally:
        peers.mount("contract", httpx.ASGITransport(app=app))


async def test_an_idempotency_key_replays_the_signature(world: Parties) -> None:
    client, _, contract = await world.sent()
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await world.sign(client, contract["id"], headers=key)
    again = await world.sign(client, contract["id"], headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(await world.events("signature.client-signed", contract["id"])) == 1
    assert len(await world.ledger_entries(contract["id"])) == 1
    other = await world.sign(client, contract["id"], headers=key, signatureName="Someone")
    world.problem(other, 422, "idempotency-key-reused")
    # Without the key, a second signature is refused.
    world.problem(await world.sign(client, contract["id"]), 409, "already-signed")


async def test_a_lost_answer_to_the_clients_move_is_finished_on_retry(world: Parties) -> None:
    client, _, contract = await world.sent()
    cid = contract["id"]
    async with interrupted(world, "POST", "/transitions", applied=True):
        failed = await world.sign(client, cid, headers={"user-agent": "First/1"})
    world.problem(failed, 503, "peer-unavailable")
    assert (await world.contract(cid))["status"] == "client_signed"
    assert await world.events("signature.client-signed", cid) == []

    retried = await world.sign(client, cid, headers={"user-agent": "Second/2"})
    assert retried.status_code == 201, retried.text
    # The first attempt's record is finished, not a second one made.
    assert retried.json()["userAgent"] == "First/1"
    entries = await world.ledger_entries(cid)
    assert [e["seq"] for e in entries] == [retried.json()["ledgerReceipt"]["seq"]]
    assert entries[0]["data"]["userAgent"] == "First/1"
    assert len(await world.events("signature.client-signed", cid)) == 1
    contract_after = await world.contract(cid)
    assert contract_after["version"] == contract["version"] + 1


async def test_an_unreached_contract_service_is_retried_for_the_contractor(
    world: Parties,
) -> None:
    client, contractor, contract = await world.sent()
    cid = contract["id"]
    assert (await world.sign(client, cid)).status_code == 201
    async with interrupted(world, "POST", "/transitions", applied=False):
        failed = await world.sign(contractor, cid)
    world.problem(failed, 503, "peer-unavailable")
    halfway = await world.contract(cid)
    assert halfway["status"] == "client_signed"
    assert halfway["finalPdfSha256"] is not None  # stored, not yet fully signed

    retried = await world.sign(contractor, cid)
    assert retried.status_code == 201, retried.text
    done = await world.contract(cid)
    assert done["status"] == "fully_signed"
    # The seal is not deterministic (a new signing time and time-stamp): the
    # retry replaced the document nobody was given (the contract was not yet
    # fully signed), and every answer names the one stored.
    assert done["finalPdfSha256"] == retried.json()["finalPdfSha256"] != halfway["finalPdfSha256"]
    assert done["version"] == halfway["version"] + 2  # replaced, then moved
    assert len(await world.ledger_entries(cid)) == 2
    assert len(await world.events("signature.completed", cid)) == 1


async def test_a_lost_answer_to_the_contractors_move_is_finished_on_retry(
    world: Parties,
) -> None:
    client, contractor, contract = await world.sent()
    cid = contract["id"]
    assert (await world.sign(client, cid)).status_code == 201
    async with interrupted(world, "POST", "/transitions", applied=True):
        failed = await world.sign(contractor, cid)
    world.problem(failed, 503, "peer-unavailable")
    signed = await world.contract(cid)
    assert signed["status"] == "fully_signed"
    assert await world.events("signature.completed", cid) == []

    retried = await world.sign(contractor, cid)
    assert retried.status_code == 201, retried.text
    assert retried.json()["contractStatus"] == "fully_signed"
    assert retried.json()["finalPdfSha256"] == signed["finalPdfSha256"]
    assert (await world.contract(cid))["version"] == signed["version"]
    [completed] = await world.events("signature.completed", cid)
    assert completed["finalPdfSha256"] == signed["finalPdfSha256"]
    assert len(await world.ledger_entries(cid)) == 2
    world.problem(await world.sign(contractor, cid), 409, "already-signed")


async def test_an_interrupted_decline_is_finished_on_retry(world: Parties) -> None:
    _, contractor, contract = await world.sent()
    cid = contract["id"]
    decline = {"reason": "Changed my mind"}
    signature_api = world.fleet.client("signature")
    path = f"/v1/signatures/contracts/{cid}/decline"
    async with interrupted(world, "POST", "/transitions", applied=True):
        failed = await signature_api.post(path, json=decline, headers=contractor.headers)
    world.problem(failed, 503, "peer-unavailable")
    assert (await world.contract(cid))["status"] == "declined"
    retried = await signature_api.post(
        path, json={"reason": "A different reason"}, headers=contractor.headers
    )
    assert retried.status_code == 200, retried.text
    assert retried.json()["reason"] == "Changed my mind"
    [event] = await world.events("signature.declined", cid)
    assert event["reason"] == "Changed my mind"


class Queued(httpx.AsyncBaseTransport):
    """The ledger, whose single writer answers an append only after others
    ahead of it: each append waits ``seconds`` before it is served."""

    def __init__(self, app: object, seconds: float) -> None:
        self.inner = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        self.seconds = seconds

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/internal/ledger/entries"):
            await asyncio.sleep(self.seconds)
        return await self.inner.handle_async_request(request)


async def test_a_ledger_with_a_queue_of_appends_does_not_fail_the_signers(world: Parties) -> None:
    """Found by ``make chaos``: with 50 lifecycles, appends waited 3 to 8 s for
    the journal's writer; the 5 s peer timeout re-queued them and opened the
    breaker, and every signature failed with 503 for three minutes."""
    peers = world.fleet.runtime("signature").peers
    # The real ledger, or its stand-in (``MINDLINKS_TEST_STAND_INS``).
    app = world.fleet.apps.get("ledger") or world.directory.ledger_app()
    peers.mount("ledger", Queued(app, seconds=6.0))
    # One signing shows it: with the old 5 s timeout each attempt failed, and
    # the signing with them (503), whatever the breaker did.
    try:
        client, _, contract = await world.sent()
        signed = await world.sign(client, contract["id"])
    finally:
        peers.mount("ledger", httpx.ASGITransport(app=app))
    assert signed.status_code == 201, signed.text
    assert peers.breaker_states()["ledger"] == "closed"
