from __future__ import annotations

import json
from typing import Any

from mindlinks_dev.harness import Running
from mindlinks_kit.dynamo import UnitOfWork, values
from mindlinks_kit.events.consumer import replay_safe
from mindlinks_kit.events.envelope import Delivered
from mindlinks_kit.events.outbox import Relay


async def quiet(toy: Running) -> None:
    """The toy fleet is shared by the session: publish and consume what earlier
    tests left behind, so a count below sees only this test's events."""
    await toy.runtime("alpha").relay.flush()  # type: ignore[union-attr]
    await toy.runtime("beta").consumer.drain()  # type: ignore[union-attr]


async def pending_for(toy: Running, thing_id: str) -> list[dict[str, Any]]:
    """This test's committed, unpublished outbox items."""
    items = await toy.runtime("alpha").relay.pending()  # type: ignore[union-attr]
    return [item for item in items if thing_id in item["detail"]]


async def test_event_travels_outbox_eventbridge_sqs_consumer(toy: Running) -> None:
    response = await toy.client("alpha").post("/v1/alphas/make", json={"size": 3})
    assert response.status_code == 201, response.text
    thing_id = response.json()["id"]

    assert await toy.deliver() >= 2
    seen = await toy.runtime("beta").table("seen").get({"id": thing_id})
    assert seen is not None
    assert await toy.runtime("alpha").relay.backlog() == 0  # type: ignore[union-attr]


async def test_a_commit_hands_its_event_to_the_relay_which_publishes_it_without_a_query(
    toy: Running,
) -> None:
    alpha = toy.runtime("alpha")
    relay = alpha.relay
    assert relay is not None
    queries: list[object] = []
    query = relay.table.query

    async def counted(*args: Any, **kwargs: Any) -> Any:
        queries.append(args)
        return await query(*args, **kwargs)

    relay.table.query = counted  # type: ignore[method-assign]
    try:
        response = await toy.client("alpha").post("/v1/alphas/make", json={"size": 4})
        assert response.status_code == 201
        assert await relay.publish_handed() == 0
        assert queries == []
    finally:
        del relay.table.query
    assert await relay.backlog() == 0  # published and marked sent
    assert await toy.runtime("beta").consumer.drain() >= 1  # type: ignore[union-attr]
    assert await toy.runtime("beta").table("seen").get({"id": response.json()["id"]})


async def test_relay_republishes_after_a_crash_before_publishing(toy: Running) -> None:
    alpha = toy.runtime("alpha")
    response = await toy.client("alpha").post("/v1/alphas/make", json={"size": 5})
    thing_id = response.json()["id"]
    # The process "crashed" after commit: its relay never ran. A fresh relay
    # (the restarted process) finds the pending item and publishes it.
    assert alpha.relay is not None
    fresh = Relay(alpha.table("outbox"), alpha.aws.events, alpha.relay.bus, alpha.metrics)
    assert await fresh.flush() == 1
    await toy.runtime("beta").consumer.drain()  # type: ignore[union-attr]
    assert await toy.runtime("beta").table("seen").get({"id": thing_id})


async def test_duplicate_delivery_has_no_second_effect(toy: Running) -> None:
    await quiet(toy)
    response = await toy.client("alpha").post("/v1/alphas/make", json={"size": 7})
    assert response.status_code == 201
    alpha, beta = toy.runtime("alpha"), toy.runtime("beta")
    pending = await pending_for(toy, response.json()["id"])
    assert len(pending) == 1
    # Publish the same outbox item twice (a crash between publish and mark-sent).
    await alpha.relay._publish(pending)  # type: ignore[union-attr]
    await alpha.relay._publish(pending)  # type: ignore[union-attr]
    calls = toy.deps("beta")["calls"]
    before = len(calls)
    assert await beta.consumer.drain() == 2  # type: ignore[union-attr]
    assert len(calls) - before == 1


async def test_a_replay_safe_handler_runs_again_on_a_duplicate_and_changes_nothing(
    toy: Running,
) -> None:
    """Without the inbox read first, a duplicate runs the handler again; the
    inbox record's condition cancels its whole unit of work."""
    await quiet(toy)
    response = await toy.client("alpha").post("/v1/alphas/make", json={"size": 8})
    thing_id = response.json()["id"]
    alpha, beta = toy.runtime("alpha"), toy.runtime("beta")
    consumer = beta.consumer
    assert consumer is not None
    assert alpha.relay is not None
    seen = beta.table("seen")
    runs: list[str] = []

    async def count(event: Delivered[Any], uow: UnitOfWork) -> None:
        runs.append(event.id)
        key = {"id": f"count-{event.payload.thing_id}"}
        uow.update(seen, key, "ADD n :one", values=values(one=1))

    original = consumer.handlers
    consumer.handlers = {**original, "thing.happened": replay_safe(count)}
    try:
        pending = await pending_for(toy, thing_id)
        assert len(pending) == 1
        await alpha.relay._publish(pending)
        await alpha.relay._publish(pending)
        assert await consumer.drain() == 2
    finally:
        consumer.handlers = original
    assert len(runs) == 2
    assert runs[0] == runs[1]
    counted = await seen.get({"id": f"count-{thing_id}"})
    assert counted is not None
    assert counted["n"] == 1


async def test_poison_and_failing_events_land_in_the_dead_letter_queue(toy: Running) -> None:
    beta = toy.runtime("beta")
    consumer = beta.consumer
    assert consumer is not None
    sqs = beta.aws.sqs
    await sqs.send_message(QueueUrl=consumer.queue_url, MessageBody="{not json")
    assert await consumer.drain() == 1
    dead = await sqs.receive_message(
        QueueUrl=consumer.dead_letter_url, MessageAttributeNames=["All"], WaitTimeSeconds=0
    )
    messages = dead["Messages"]
    assert messages[0]["Body"] == "{not json"
    assert messages[0]["MessageAttributes"]["error"]["StringValue"].startswith("poison")
    for message in messages:
        await sqs.delete_message(
            QueueUrl=consumer.dead_letter_url, ReceiptHandle=message["ReceiptHandle"]
        )

    # A handler that keeps failing: retried until max_receives (2), then dead-lettered.
    consumer.backoff = lambda receives: 0  # redeliver at once instead of waiting
    await toy.client("alpha").post("/v1/alphas/make", json={"size": -1})
    await toy.runtime("alpha").relay.flush()  # type: ignore[union-attr]
    assert await consumer.drain() == 2
    dead = await sqs.receive_message(
        QueueUrl=consumer.dead_letter_url, MessageAttributeNames=["All"], WaitTimeSeconds=0
    )
    bodies = [json.loads(m["Body"]) for m in dead["Messages"]]
    assert bodies[0]["detail"]["data"]["size"] == -1
    assert "negative" in dead["Messages"][0]["MessageAttributes"]["error"]["StringValue"]
    assert dead["Messages"][0]["MessageAttributes"]["receives"]["StringValue"] == "2"


class _CountingSqs:
    """The consumer's SQS client, counting its deletes."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.deletes: list[tuple[str, int]] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.real, name)
        if not name.startswith("delete_message"):
            return attribute

        async def counted(**kwargs: Any) -> Any:
            self.deletes.append((name, len(kwargs.get("Entries", [None]))))
            return await attribute(**kwargs)

        return counted


async def test_messages_handled_together_are_deleted_in_one_call(toy: Running) -> None:
    alpha, beta = toy.runtime("alpha"), toy.runtime("beta")
    assert alpha.relay is not None
    consumer = beta.consumer
    assert consumer is not None
    await alpha.relay.flush()
    await consumer.drain()
    for size in (11, 12, 13):
        response = await toy.client("alpha").post("/v1/alphas/make", json={"size": size})
        assert response.status_code == 201
    assert await alpha.relay.flush() == 3  # one PutEvents; marked sent in one call
    assert await alpha.relay.backlog() == 0
    spy = _CountingSqs(consumer.sqs)
    consumer.sqs = spy
    try:
        assert await consumer.drain() == 3
    finally:
        consumer.sqs = spy.real
    assert sum(n for _, n in spy.deletes) == 3
    assert len(spy.deletes) < 3  # at least two went in one DeleteMessageBatch
    left = await spy.real.receive_message(QueueUrl=consumer.queue_url, WaitTimeSeconds=0)
    assert not left.get("Messages")
