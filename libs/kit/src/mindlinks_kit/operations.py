"""``/internal/ops``: what the fleet's operator service (admin) reads and
repairs on every service — breaker states, outbox backlog, queue depths, and
the dead-letter queue (list, replay to the source queue, discard).

Each service answers for its own queue, so its IAM role stays limited to its
own queues; the operator aggregates over HTTP.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field, StringConstraints, model_validator

from mindlinks_kit.auth import ServiceCaller, service_caller
from mindlinks_kit.errors import Forbidden, NotFound
from mindlinks_kit.runtime import Runtime
from mindlinks_kit.schemas import ApiModel

if TYPE_CHECKING:
    from types_aiobotocore_sqs import SQSClient
    from types_aiobotocore_sqs.type_defs import MessageTypeDef

HOLD_SECONDS = 30
"""How long a replay or discard holds the messages it received."""
MAX_BATCH = 1000
"""Most messages one replay or discard moves (call again for more)."""


async def operator(
    request: Request, caller: Annotated[ServiceCaller, Depends(service_caller)]
) -> ServiceCaller:
    runtime: Runtime = request.app.state.runtime
    if caller.service != runtime.fleet.operator:
        raise Forbidden(f"Only {runtime.fleet.operator} may call operations routes")
    return caller


operations = APIRouter(prefix="/internal/ops", tags=["internal"], dependencies=[Depends(operator)])


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


class QueueStatus(ApiModel):
    depth: int
    in_flight: int
    dead_letters: int


class OpsStatus(ApiModel):
    service: str
    version: str
    breakers: dict[str, str]
    outbox_backlog: int
    queue: QueueStatus | None
    revoked_subjects: int


class DeadLetter(ApiModel):
    message_id: str
    event_id: str | None
    event_name: str | None
    source: str | None
    error: str | None
    failed_at: str | None
    receives: int | None
    detail: dict[str, Any] | None
    body: str | None = None
    """The raw body, only when it is not an event envelope."""


class DeadLetters(ApiModel):
    items: list[DeadLetter]


MessageId = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class Replay(ApiModel):
    message_ids: Annotated[list[MessageId], Field(max_length=100)] = []
    all: bool = False

    @model_validator(mode="after")
    def one_of(self) -> Replay:
        if bool(self.message_ids) == self.all:
            raise ValueError("give either messageIds or all: true")
        return self


class Replayed(ApiModel):
    replayed: list[str]
    not_found: list[str]


class Discard(ApiModel):
    message_ids: Annotated[list[MessageId], Field(min_length=1, max_length=100)]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class Discarded(ApiModel):
    discarded: list[DeadLetter]
    not_found: list[str]


@operations.get("/status")
async def status(request: Request) -> OpsStatus:
    runtime = _runtime(request)
    backlog = await runtime.relay.backlog() if runtime.relay else 0
    return OpsStatus(
        service=runtime.service.name,
        version=runtime.settings.version,
        breakers=runtime.peers.breaker_states(),
        outbox_backlog=backlog,
        queue=await _queue_status(runtime),
        revoked_subjects=len(runtime.revocations) if runtime.revocations else 0,
    )


async def _queue_status(runtime: Runtime) -> QueueStatus | None:
    consumer = runtime.consumer
    if consumer is None:
        return None
    names: Any = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    queue, dead = await asyncio.gather(
        consumer.sqs.get_queue_attributes(QueueUrl=consumer.queue_url, AttributeNames=names),
        consumer.sqs.get_queue_attributes(QueueUrl=consumer.dead_letter_url, AttributeNames=names),
    )
    return QueueStatus(
        depth=int(queue["Attributes"]["ApproximateNumberOfMessages"]),
        in_flight=int(queue["Attributes"]["ApproximateNumberOfMessagesNotVisible"]),
        dead_letters=int(dead["Attributes"]["ApproximateNumberOfMessages"]),
    )


@operations.get("/dead-letters")
async def dead_letters(
    request: Request, limit: Annotated[int, Query(ge=1, le=100)] = 50
) -> DeadLetters:
    """A look at the dead letters without taking them. Each receive holds its
    messages for a moment so the next receive reaches past them (a receive
    with no hold returns the same first ten again and again); everything is
    released at once afterwards, so the queue is left as it was."""
    sqs, dlq, _ = _queues(_runtime(request))
    seen: dict[str, DeadLetter] = {}
    held: list[MessageTypeDef] = []
    try:
        while len(seen) < limit:
            batch = await _receive(sqs, dlq, visibility=HOLD_SECONDS)
            held.extend(batch)
            fresh = [m for m in batch if m["MessageId"] not in seen]
            for message in fresh:
                seen[message["MessageId"]] = _describe(message)
            if not fresh:
                break
    finally:
        await _release(sqs, dlq, held)
    return DeadLetters(items=sorted(seen.values(), key=lambda d: d.failed_at or "")[:limit])


@operations.post("/dead-letters/replay")
async def replay(body: Replay, request: Request) -> Replayed:
    """Send dead letters back to the service's queue, then delete them from
    the DLQ. A crash between the two can only repeat a message, and the
    consumer's inbox makes a repeat change nothing."""
    sqs, dlq, queue_url = _queues(_runtime(request))

    async def move(message: MessageTypeDef) -> None:
        await sqs.send_message(QueueUrl=queue_url, MessageBody=message.get("Body", ""))
        await sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])

    moved, missing = await _take(sqs, dlq, set(body.message_ids) or None, move)
    return Replayed(replayed=[m["MessageId"] for m in moved], not_found=missing)


@operations.post("/dead-letters/discard")
async def discard(body: Discard, request: Request) -> Discarded:
    sqs, dlq, _ = _queues(_runtime(request))

    async def drop(message: MessageTypeDef) -> None:
        await sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])

    dropped, missing = await _take(sqs, dlq, set(body.message_ids), drop)
    return Discarded(discarded=[_describe(m) for m in dropped], not_found=missing)


def _queues(runtime: Runtime) -> tuple[SQSClient, str, str]:
    consumer = runtime.consumer
    if consumer is None:
        raise NotFound(f"{runtime.service.name} consumes no events and has no queue")
    return consumer.sqs, consumer.dead_letter_url, consumer.queue_url


async def _receive(sqs: SQSClient, queue_url: str, visibility: int) -> list[MessageTypeDef]:
    response = await sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=visibility,
        WaitTimeSeconds=0,
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["All"],
    )
    return response.get("Messages", [])


async def _take(
    sqs: SQSClient,
    queue_url: str,
    wanted: set[str] | None,
    act: Callable[[MessageTypeDef], Awaitable[None]],
) -> tuple[list[MessageTypeDef], list[str]]:
    """Receive (holding what we receive) until every wanted message is found
    or the queue has nothing more to give; act on the wanted ones (all, when
    ``wanted`` is None) and release the rest at once."""
    done: list[MessageTypeDef] = []
    held: list[MessageTypeDef] = []
    remaining = set(wanted) if wanted is not None else None
    try:
        while len(done) < MAX_BATCH and (remaining is None or remaining):
            batch = await _receive(sqs, queue_url, visibility=HOLD_SECONDS)
            if not batch:
                break
            for message in batch:
                if remaining is None or message["MessageId"] in remaining:
                    await act(message)
                    done.append(message)
                    if remaining is not None:
                        remaining.discard(message["MessageId"])
                else:
                    held.append(message)
    finally:
        await _release(sqs, queue_url, held)
    return done, sorted(remaining or ())


async def _release(sqs: SQSClient, queue_url: str, held: list[MessageTypeDef]) -> None:
    """Make held messages visible again at once; one that is already gone
    (taken by a concurrent replay) is no matter."""
    await asyncio.gather(
        *(
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
            )
            for m in held
        ),
        return_exceptions=True,
    )


def _describe(message: MessageTypeDef) -> DeadLetter:
    attributes: dict[str, Any] = dict(message.get("MessageAttributes", {}))

    def attribute(name: str) -> str | None:
        value = attributes.get(name, {}).get("StringValue")
        return str(value) if value is not None else None

    receives = attribute("receives")
    raw = message.get("Body", "")
    try:
        envelope = json.loads(raw)
        detail = envelope["detail"]
        event: dict[str, Any] = {
            "event_id": str(detail["id"]),
            "event_name": str(envelope["detail-type"]),
            "source": str(envelope["source"]),
            "detail": detail if isinstance(detail, dict) else None,
        }
    except (ValueError, KeyError, TypeError):
        # Not an event envelope: show the raw body instead.
        event = {"event_id": None, "event_name": None, "source": None, "detail": None}
        event["body"] = raw[:2000]
    return DeadLetter(
        message_id=message["MessageId"],
        error=attribute("error"),
        failed_at=attribute("failedAt"),
        receives=int(receives) if receives else None,
        **event,
    )
