"""Every service's dead-letter queue, read and repaired through its
``/internal/ops`` routes (the kit's): a dead-lettered event replayed after the
fault is fixed is applied exactly once, however often it is replayed."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from mindlinks_dev.harness import Running
from mindlinks_fleet.events import UserCreated
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.events.consumer import Consumer
from mindlinks_kit.events.envelope import Delivered

OPS = "/internal/ops"


class Outage:
    """Wraps the user service's ``user.created`` handler: fails while down."""

    def __init__(self, consumer: Consumer) -> None:
        self.real = consumer.handlers["user.created"]
        self.down = True
        self.applied: list[str] = []

    async def __call__(self, event: Delivered[Any], uow: UnitOfWork) -> None:
        if self.down:
            raise RuntimeError("profile store unavailable")
        self.applied.append(event.id)
        await self.real(event, uow)


@pytest.fixture
def outage(platform: Running) -> Iterator[Outage]:
    consumer = platform.runtime("user").consumer
    assert consumer is not None
    handlers, backoff = consumer.handlers, consumer.backoff
    fault = Outage(consumer)
    consumer.handlers = {**handlers, "user.created": fault}
    consumer.backoff = lambda receives: 0  # redeliver at once instead of waiting
    yield fault
    consumer.handlers, consumer.backoff = handlers, backoff


async def _dead_letters(platform: Running) -> list[dict[str, Any]]:
    response = await platform.client("user").get(
        f"{OPS}/dead-letters", headers=platform.service_bearer("admin")
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_dead_lettered_event_is_replayed_and_applied_exactly_once(
    platform: Running, outage: Outage
) -> None:
    user_id = uuid.uuid4().hex
    event_id = await platform.emit(
        "user.created",
        UserCreated(user_id=user_id, email=f"{user_id[:8]}@example.com", name="Ida", role="client"),
    )
    await platform.deliver()
    found = [d for d in await _dead_letters(platform) if d["eventId"] == event_id]
    assert len(found) == 1
    letter = found[0]
    assert letter["eventName"] == "user.created"
    assert "profile store unavailable" in letter["error"]
    assert letter["receives"] == platform.runtime("user").service.max_receives
    assert letter["detail"]["data"]["userId"] == user_id
    status = await platform.client("user").get(
        f"{OPS}/status", headers=platform.service_bearer("admin")
    )
    assert status.json()["queue"]["deadLetters"] >= 1

    outage.down = False
    admin = platform.service_bearer("admin")
    replayed = await platform.client("user").post(
        f"{OPS}/dead-letters/replay", headers=admin, json={"messageIds": [letter["messageId"]]}
    )
    assert replayed.json() == {"replayed": [letter["messageId"]], "notFound": []}
    await platform.deliver()
    assert outage.applied == [event_id]
    profile = await platform.client("user").get(f"/internal/users/{user_id}", headers=admin)
    assert profile.status_code == 200, profile.text

    again = await platform.client("user").post(
        f"{OPS}/dead-letters/replay", headers=admin, json={"messageIds": [letter["messageId"]]}
    )
    assert again.json() == {"replayed": [], "notFound": [letter["messageId"]]}
    # The same event once more on the queue (a replay racing a crash): no second effect.
    consumer = platform.runtime("user").consumer
    assert consumer is not None
    envelope = {
        "detail-type": "user.created",
        "source": "mindlinks.auth",
        "detail": letter["detail"],
    }
    await consumer.sqs.send_message(QueueUrl=consumer.queue_url, MessageBody=json.dumps(envelope))
    await platform.deliver()
    assert outage.applied == [event_id]
    assert not [d for d in await _dead_letters(platform) if d["eventId"] == event_id]


async def test_replay_all_and_discard_with_a_reason(platform: Running, outage: Outage) -> None:
    consumer = platform.runtime("user").consumer
    assert consumer is not None
    await consumer.sqs.send_message(QueueUrl=consumer.dead_letter_url, MessageBody="{not json")
    poison = next(d for d in await _dead_letters(platform) if d["body"] == "{not json")
    assert poison["eventId"] is None
    admin = platform.service_bearer("admin")
    discarded = await platform.client("user").post(
        f"{OPS}/dead-letters/discard",
        headers=admin,
        json={"messageIds": [poison["messageId"], "no-such-message"], "reason": "garbage"},
    )
    body = discarded.json()
    assert [d["messageId"] for d in body["discarded"]] == [poison["messageId"]]
    assert body["notFound"] == ["no-such-message"]
    assert poison["messageId"] not in {d["messageId"] for d in await _dead_letters(platform)}

    ids = []
    for _ in range(3):
        user_id = uuid.uuid4().hex
        ids.append(
            await platform.emit(
                "user.created",
                UserCreated(
                    user_id=user_id, email=f"{user_id[:8]}@example.com", name="Al", role="client"
                ),
            )
        )
    await platform.deliver()
    outage.down = False
    everything = await platform.client("user").post(
        f"{OPS}/dead-letters/replay", headers=admin, json={"all": True}
    )
    assert len(everything.json()["replayed"]) >= 3
    await platform.deliver()
    # Letters other tests of the session left behind may be replayed too; ours once each.
    assert all(outage.applied.count(event_id) == 1 for event_id in ids)
    assert not {d["eventId"] for d in await _dead_letters(platform)} & set(ids)


async def test_the_look_reaches_past_the_first_ten_and_leaves_the_queue_as_it_was(
    platform: Running,
) -> None:
    # A receive without a hold returns the same first ten every time: a look
    # that did so missed every letter behind them (a flaky CI failure once).
    consumer = platform.runtime("user").consumer
    assert consumer is not None
    bodies = [f"{{filler {uuid.uuid4().hex}" for _ in range(23)]
    for body in bodies:
        await consumer.sqs.send_message(QueueUrl=consumer.dead_letter_url, MessageBody=body)
    first = {d["body"] for d in await _dead_letters(platform)}
    assert set(bodies) <= first
    again = {d["body"] for d in await _dead_letters(platform)}
    assert set(bodies) <= again  # released at once, not hidden for the hold
    ids = [d["messageId"] for d in await _dead_letters(platform) if d["body"] in bodies]
    dropped = await platform.client("user").post(
        f"{OPS}/dead-letters/discard",
        headers=platform.service_bearer("admin"),
        json={"messageIds": ids, "reason": "test filler"},
    )
    assert len(dropped.json()["discarded"]) == len(bodies)


async def test_only_the_operator_service_may_use_operations_routes(platform: Running) -> None:
    user = platform.client("user")
    assert (await user.get(f"{OPS}/status")).status_code == 401
    other = await user.get(f"{OPS}/dead-letters", headers=platform.service_bearer("contract"))
    assert other.status_code == 403
    person = await user.get(f"{OPS}/status", headers=platform.bearer(uuid.uuid4().hex, "admin"))
    assert person.status_code == 401  # a user token is not a service token


@pytest.mark.parametrize(
    "body",
    [{}, {"all": True, "messageIds": ["m"]}, {"messageIds": [""]}, {"all": "yes please"}],
)
async def test_a_replay_must_say_what_to_replay(platform: Running, body: dict[str, Any]) -> None:
    response = await platform.client("user").post(
        f"{OPS}/dead-letters/replay", headers=platform.service_bearer("admin"), json=body
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_discard_needs_a_reason(platform: Running) -> None:
    response = await platform.client("user").post(
        f"{OPS}/dead-letters/discard",
        headers=platform.service_bearer("admin"),
        json={"messageIds": ["m"]},
    )
    assert response.status_code == 422


async def test_status_reports_breakers_backlog_and_queue(platform: Running) -> None:
    status = await platform.client("user").get(
        f"{OPS}/status", headers=platform.service_bearer("admin")
    )
    body = status.json()
    assert body["service"] == "user"
    assert set(body["queue"]) == {"depth", "inFlight", "deadLetters"}
    assert body["outboxBacklog"] >= 0
    assert body["breakers"]["auth"] in {"closed", "open", "half-open"}
