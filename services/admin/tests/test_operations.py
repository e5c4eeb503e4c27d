"""Running the fleet through the admin API: every service's health within the
deadline (even with one hung), queues and dead letters (replay, discard with
the bodies kept in the audit), the ledger's verification."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx

from mindlinks_admin.settings import Settings
from mindlinks_dev.pytest_plugin import TEST_FLEET_DEADLINE_SECONDS
from mindlinks_fleet import FLEET
from mindlinks_kit.events.envelope import Detail

if TYPE_CHECKING:
    from conftest import Desk

SERVICES = {s.name for s in FLEET.services}


@contextlib.asynccontextmanager
async def hung_port() -> AsyncIterator[int]:
    """A local TCP server that accepts connections and never answers."""
    writers: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.read()  # until the caller gives up and closes

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_the_fleet_view(desk: Desk) -> None:
    # A cold fleet's first probes also fetch keys and open clients; on a busy
    # test machine that can take longer than the deadline, so warm up first.
    assert (await desk.get("/fleet")).status_code == 200
    response = await desk.get("/fleet")
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["deadlineSeconds"] == TEST_FLEET_DEADLINE_SECONDS
    assert Settings.model_fields["fleet_deadline_seconds"].default == 1.5  # a deployment's
    assert view["partial"] == [], view["services"]
    services = {s["service"]: s for s in view["services"]}
    assert set(services) == SERVICES
    for name, health in services.items():
        assert health["live"], health
        assert health["ready"], health
        assert health["error"] is None
        assert health["details"] == []
        assert health["version"] == "0.1.0"
        assert health["latencyMs"] >= 0
        assert isinstance(health["outboxBacklog"], int)
        assert set(health["queue"]) == {"depth", "inFlight", "deadLetters"}, name
    assert set(services["admin"]["breakers"]) == SERVICES - {"admin"}
    assert services["user"]["breakers"] == {"auth": "closed"}


async def test_the_fleet_view_answers_in_time_with_a_hung_service(desk: Desk) -> None:
    async with hung_port() as port:
        with desk.redirected("notification", port):
            started = time.perf_counter()
            response = await desk.get("/fleet")
            elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    assert elapsed < TEST_FLEET_DEADLINE_SECONDS + 1.5  # bounded by the deadline
    services = {s["service"]: s for s in response.json()["services"]}
    hung = services["notification"]
    assert (hung["live"], hung["ready"], hung["error"]) == (False, False, "timeout")
    assert hung["details"] == ["notification did not answer (timeout)"]
    assert all(s["live"] for name, s in services.items() if name != "notification")
    assert response.json()["partial"] == [
        {"service": "notification", "detail": "notification did not answer (timeout)"}
    ]


async def test_event_queues(desk: Desk) -> None:
    response = await desk.get("/events/queues")
    assert response.status_code == 200, response.text
    rows = {r["service"]: r for r in response.json()["items"]}
    assert set(rows) == {s.name for s in FLEET.services if s.queue}
    assert all(isinstance(r["depth"], int) for r in rows.values())
    assert response.json()["partial"] == []

    with desk.stopped("payment"):
        degraded = await desk.get("/events/queues")
    assert degraded.status_code == 200, degraded.text
    assert "payment" not in {r["service"] for r in degraded.json()["items"]}
    assert degraded.json()["partial"] == [
        {"service": "payment", "detail": "payment did not answer (connection failed)"}
    ]


async def dead_letter(desk: Desk, service: str) -> str:
    """An event ``service`` cannot handle, dead-lettered by its real consumer;
    returns the event id."""
    runtime = desk.fleet.runtime(service)
    assert runtime.consumer is not None
    detail = Detail(data={"companyId": uuid.uuid4().hex})
    body = {
        "source": "mindlinks.client",
        "detail-type": "company.registered",
        "detail": detail.model_dump(mode="json", by_alias=True),
    }
    await runtime.aws.sqs.send_message(
        QueueUrl=runtime.consumer.queue_url, MessageBody=json.dumps(body)
    )
    await runtime.consumer.drain()
    return detail.id


async def letters(desk: Desk, service: str) -> dict[str, dict[str, Any]]:
    response = await desk.get("/events/dead-letters", service=service)
    assert response.status_code == 200, response.text
    return {d["eventId"]: d for d in response.json()["items"]}


async def test_dead_letters_replay_and_discard(desk: Desk) -> None:
    kept_id = await dead_letter(desk, "user")
    dropped_id = await dead_letter(desk, "user")
    held = await letters(desk, "user")
    assert {kept_id, dropped_id} <= set(held)
    assert "no handler" in held[kept_id]["error"]

    kept = held[kept_id]["messageId"]
    replayed = await desk.post(
        "/events/dead-letters/replay", {"service": "user", "messageIds": [kept]}
    )
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["replayed"] == [kept]
    [done, asked] = await desk.audit(target="queue:user", action="dead-letters.replay")
    assert asked["before"] == {"messageIds": [kept]}
    assert done["after"]["replayed"] == [kept]

    dropped = held[dropped_id]["messageId"]
    discarded = await desk.post(
        "/events/dead-letters/discard",
        {"service": "user", "messageIds": [dropped], "reason": "test event, never valid"},
    )
    assert discarded.status_code == 200, discarded.text
    assert [d["messageId"] for d in discarded.json()["discarded"]] == [dropped]
    assert dropped_id not in await letters(desk, "user")
    done, asked = await desk.audit(target=f"message:user:{dropped}")
    assert asked["phase"] == "requested"
    assert asked["reason"] == "test event, never valid"
    assert asked["before"]["detail"]["id"] == dropped_id  # the body, kept
    assert asked["before"]["eventName"] == "company.registered"
    assert done["phase"] == "succeeded"

    gone = await desk.post(
        "/events/dead-letters/discard",
        {"service": "user", "messageIds": [dropped], "reason": "twice over"},
    )
    assert gone.status_code == 200, gone.text
    assert gone.json()["notFound"] == [dropped]
    failed, *_ = await desk.audit(target=f"message:user:{dropped}")
    assert (failed["phase"], failed["error"]["status"]) == ("failed", 404)


async def test_dead_letter_requests_are_checked(desk: Desk) -> None:
    desk.problem(await desk.get("/events/dead-letters", service="mailer"), 422, "unknown-queue")
    desk.problem(await desk.get("/events/dead-letters"), 422, "invalid-input")
    for body in (
        {"service": "user"},
        {"service": "user", "messageIds": ["m"], "all": True},
        {"service": "user", "messageIds": ["m", "m"]},
    ):
        response = await desk.post("/events/dead-letters/replay", body)
        desk.problem(response, 422, "invalid-input")
    no_reason = await desk.post(
        "/events/dead-letters/discard", {"service": "user", "messageIds": ["m"]}
    )
    desk.problem(no_reason, 422, "invalid-input")
    desk.problem(
        await desk.post(
            "/events/dead-letters/discard",
            {"service": "mailer", "messageIds": ["m"], "reason": "cleanup"},
        ),
        422,
        "unknown-queue",
    )


async def test_the_admins_own_dead_letters(desk: Desk) -> None:
    """The admin service answers for its own queue through the same routes."""
    event_id = await dead_letter(desk, "admin")
    assert event_id in await letters(desk, "admin")
    replayed = await desk.post("/events/dead-letters/replay", {"service": "admin", "all": True})
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["replayed"]
    [_, asked] = await desk.audit(target="queue:admin")
    assert asked["before"] == {"all": True}


async def test_ledger_verification(desk: Desk) -> None:
    response = await desk.get("/ledger/verify")
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True
    [seen, *_] = await desk.audit(target="ledger")
    assert (seen["action"], seen["phase"]) == ("ledger.verify", "viewed")
    with desk.stopped("ledger"):
        down = await desk.get("/ledger/verify")
    desk.problem(down, 503, "peer-unavailable")


async def test_a_peer_refusing_the_admin_is_a_502_not_a_500(desk: Desk) -> None:
    """A peer's 401/403 means the admin service is misconfigured, not the caller wrong."""
    app = httpx.MockTransport(
        lambda request: httpx.Response(
            403, json={"code": "forbidden", "detail": "Only admin may call this"}
        )
    )
    peers = desk.fleet.runtime("admin").peers
    peers.mount("ledger", app)
    try:
        response = await desk.get("/ledger/verify")
    finally:
        peers.mount("ledger", httpx.ASGITransport(app=desk.fleet.apps["ledger"]))
    body = desk.problem(response, 502, "peer-error")
    assert body["service"] == "ledger"


async def test_a_live_service_that_is_not_ready(desk: Desk) -> None:
    def signature(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/health/ready":
            return httpx.Response(503, json={"code": "not-ready", "detail": "table missing"})
        if request.url.path == "/health/live":
            return httpx.Response(200, json={"status": "ok", "version": "9.9.9"})
        status = {"service": "signature", "version": "9.9.9", "breakers": {}, "outboxBacklog": 0}
        return httpx.Response(200, json={**status, "queue": None, "revokedSubjects": 0})

    peers = desk.fleet.runtime("admin").peers
    peers.mount("signature", httpx.MockTransport(signature))
    try:
        response = await desk.get("/fleet")
    finally:
        peers.mount("signature", httpx.ASGITransport(app=desk.fleet.apps["signature"]))
        peers.breakers["signature"].close()
    health = {s["service"]: s for s in response.json()["services"]}["signature"]
    assert (health["live"], health["ready"], health["version"]) == (True, False, "9.9.9")
    assert health["error"] is None
    assert health["details"] == ["signature is not ready: signature did not answer (server error)"]
    assert health["queue"] is None


def test_the_schema_names_every_queue_a_dead_letter_route_takes() -> None:
    """``make fuzz`` found ``service: "a"`` (``unknown-queue``) and repeated
    message ids schema-valid and refused: the schema now states both rules."""
    from mindlinks_admin.app import create

    spec = create().openapi()
    queues = sorted(s.name for s in FLEET.services if s.queue)
    for name in ("ReplayIn", "DiscardIn"):
        properties = spec["components"]["schemas"][name]["properties"]
        assert properties["service"]["enum"] == queues
        assert properties["messageIds"]["uniqueItems"] is True  # "messageIds repeat"
    query = spec["paths"]["/v1/admin/events/dead-letters"]["get"]["parameters"]
    assert next(p for p in query if p["name"] == "service")["schema"]["enum"] == queues
