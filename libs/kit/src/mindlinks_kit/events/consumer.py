"""The SQS consumer: long-polls the service's queue, runs each event's handler
exactly once in effect, and dead-letters what cannot be handled.

Exactly once in effect: the handler's writes and the inbox record of the event
id commit in one transaction, so a redelivered event finds its id already
recorded and changes nothing. Side effects outside DynamoDB (sending an email)
must de-duplicate by ``event.id`` themselves.

The inbox record is the transaction's first write, conditioned on being new:
a duplicate's commit is cancelled by that condition (``AlreadyHandled``),
whatever else it held. A handler marked ``replay_safe`` — every effect in the
unit of work, or de-duplicated by itself — is therefore run without reading
the inbox first (one read less per event); any other handler is only run
after a read found the event new, as before (ADR 0008).

The queue also carries the service's own timer firings (``mindlinks_kit.timers``):
those run through ``Timers.fire``, with the same retries and dead letters.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import structlog
from pydantic import ValidationError

from mindlinks_kit.clock import now_iso
from mindlinks_kit.context import RequestContext, current
from mindlinks_kit.declaration import Event
from mindlinks_kit.dynamo import Table, UnitOfWork
from mindlinks_kit.events.envelope import Delivered, Detail
from mindlinks_kit.events.lingering import Lingering
from mindlinks_kit.observability import Metrics
from mindlinks_kit.timers import FIRING, Firing, Timers

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient
    from types_aiobotocore_sqs import SQSClient
    from types_aiobotocore_sqs.type_defs import MessageTypeDef

Handler = Callable[[Delivered[Any], UnitOfWork], Awaitable[None]]
log = structlog.get_logger("mindlinks.consumer")
INBOX_RETENTION_SECONDS = 14 * 24 * 3600  # beyond SQS's longest retention
DELETE_LINGER_SECONDS = 1.0
"""How long a handled message waits to be deleted together with the next ones
(one ``DeleteMessageBatch`` for up to ten): far inside the queue's visibility
timeout, so it never comes back meanwhile; if the task dies first, it comes
back after the timeout and the inbox finds it handled."""


class Poison(Exception):
    """A message that no retry can fix (unparseable, unknown, invalid payload)."""


class AlreadyHandled(Exception):
    """The event's inbox record exists: another delivery committed it first."""


REPLAY_SAFE = "__mindlinks_replay_safe__"


def replay_safe(handler: Handler) -> Handler:
    """``handler``, marked safe to run again for an event already handled: its
    writes go into the unit of work (cancelled with a duplicate's commit) and
    anything else it does is de-duplicated by itself (a claim by event id, an
    idempotency key). The consumer then does not read the inbox before it."""

    async def run(event: Delivered[Any], uow: UnitOfWork) -> None:
        await handler(event, uow)

    setattr(run, REPLAY_SAFE, True)
    return run


def is_replay_safe(handler: Handler) -> bool:
    return bool(getattr(handler, REPLAY_SAFE, False))


class Consumer:
    def __init__(
        self,
        *,
        sqs: SQSClient,
        dynamodb: DynamoDBClient,
        queue_url: str,
        dead_letter_url: str,
        inbox: Table | None,
        handlers: Mapping[str, Handler],
        catalog: Mapping[str, Event],
        max_receives: int,
        metrics: Metrics,
        timers: Timers | None = None,
    ) -> None:
        self.sqs = sqs
        self.timers = timers
        self.dynamodb = dynamodb
        self.queue_url = queue_url
        self.dead_letter_url = dead_letter_url
        self.inbox = inbox
        self.handlers = handlers
        self.catalog = catalog
        self.max_receives = max_receives
        self.metrics = metrics
        self.backoff: Callable[[int], int] = lambda receives: min(2**receives, 300)
        """Seconds a failed message stays invisible before its next delivery."""
        self.deletes = Lingering(self._delete, linger=DELETE_LINGER_SECONDS, size=10)
        """Receipt handles of handled messages, deleted together."""

    async def receive_once(self, wait_seconds: int = 20) -> int:
        response = await self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        for message in messages:
            await self.handle(message)
        return len(messages)

    async def drain(self, rounds: int = 50) -> int:
        """Handle everything currently in the queue (tests use this instead of sleeping)."""
        total = 0
        for _ in range(rounds):
            handled = await self.receive_once(wait_seconds=0)
            if not handled:
                break
            total += handled
        await self.deletes.flush()
        return total

    async def run(self) -> None:
        while True:
            try:
                await self.receive_once()
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):  # else they come back, deduplicated
                    await asyncio.wait_for(self.deletes.flush(), timeout=5)
                raise
            except Exception:
                log.exception("consumer.receive_failed")
                await asyncio.sleep(2)

    async def handle(self, message: MessageTypeDef) -> None:
        receipt = message["ReceiptHandle"]
        receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        try:
            delivered = self._parse(message.get("Body", ""))
        except Poison as exc:
            await self._dead_letter(message, f"poison: {exc}", receives)
            return
        correlation = delivered.id
        if isinstance(delivered, Delivered):
            correlation = delivered.detail.correlation_id or delivered.id
        token = current.set(RequestContext(correlation_id=correlation))
        try:
            if isinstance(delivered, Firing):
                await self._fire(delivered)
            else:
                await self._process(delivered)
        except Exception as exc:
            log.warning(
                "consumer.handler_failed",
                event_name=delivered.name,
                event_id=delivered.id,
                receives=receives,
                error=repr(exc)[:500],
            )
            self.metrics.count("EventsFailed", event=delivered.name)
            if receives >= self.max_receives:
                await self._dead_letter(message, repr(exc)[:1000], receives)
            else:
                await self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url,
                    ReceiptHandle=receipt,
                    VisibilityTimeout=self.backoff(receives),
                )
            return
        finally:
            current.reset(token)
        await self.deletes.add(receipt)

    async def _delete(self, receipts: list[str]) -> None:
        """One call for up to ten handled messages."""
        if len(receipts) == 1:
            await self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipts[0])
            return
        response = await self.sqs.delete_message_batch(
            QueueUrl=self.queue_url,
            Entries=[{"Id": str(n), "ReceiptHandle": r} for n, r in enumerate(receipts)],
        )
        for failed in response.get("Failed", []):
            log.warning("consumer.delete_failed", error=failed.get("Code"))

    def _parse(self, body: str) -> Delivered[Any] | Firing:
        try:
            envelope = json.loads(body)
            if isinstance(envelope, dict) and FIRING in envelope:
                return self._firing(envelope)
            name = envelope["detail-type"]
            detail = Detail.model_validate(envelope["detail"])
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            raise Poison(f"not an event envelope: {exc!r}"[:300]) from exc
        event = self.catalog.get(name)
        if event is None or name not in self.handlers:
            raise Poison(f"no handler for {name!r}")
        try:
            payload = event.payload.model_validate(detail.data)
        except ValidationError as exc:
            raise Poison(f"invalid {name} payload: {exc.errors()[:3]}") from exc
        return Delivered(name, str(envelope.get("source", "")), detail, payload)

    def _firing(self, envelope: dict[str, Any]) -> Firing:
        try:
            firing = Firing.of(envelope)
        except (KeyError, TypeError) as exc:
            raise Poison(f"not a timer firing: {exc!r}"[:300]) from exc
        if self.timers is None or firing.name not in self.timers.handlers:
            raise Poison(f"no handler for timer {firing.name!r}")
        return firing

    async def _fire(self, firing: Firing) -> None:
        assert self.timers is not None  # _firing checked
        if not await self.timers.fire(firing):
            self.metrics.count("EventsDuplicate", event=firing.name)
            return
        self.metrics.count("EventsHandled", event=firing.name)

    async def _process(self, delivered: Delivered[Any]) -> None:
        handler = self.handlers[delivered.name]
        if self.inbox is None:
            raise RuntimeError("a service that consumes events has an inbox")
        if not is_replay_safe(handler) and await self.inbox.get({"eventId": delivered.id}):
            self.metrics.count("EventsDuplicate", event=delivered.name)
            return
        uow = UnitOfWork(self.dynamodb)
        # First, so that a duplicate's commit fails on it (UnitOfWork raises the
        # first failed condition's exception), not on a handler's own condition.
        uow.create(
            self.inbox,
            {
                "eventId": delivered.id,
                "eventName": delivered.name,
                "processedAt": now_iso(),
                "expiresAt": int(time.time()) + INBOX_RETENTION_SECONDS,
            },
            key="eventId",
            on_conflict=AlreadyHandled(),
        )
        await handler(delivered, uow)
        try:
            await uow.commit()
        except AlreadyHandled:
            # A redelivery, or a concurrent delivery of the same event that
            # committed first: already applied, and this commit changed nothing.
            self.metrics.count("EventsDuplicate", event=delivered.name)
            return
        self.metrics.count("EventsHandled", event=delivered.name)

    async def _dead_letter(self, message: MessageTypeDef, error: str, receives: int) -> None:
        await self.sqs.send_message(
            QueueUrl=self.dead_letter_url,
            MessageBody=message.get("Body", ""),
            MessageAttributes={
                "error": {"DataType": "String", "StringValue": error or "unknown"},
                "failedAt": {"DataType": "String", "StringValue": now_iso()},
                "receives": {"DataType": "Number", "StringValue": str(receives)},
                "sourceQueue": {"DataType": "String", "StringValue": self.queue_url},
            },
        )
        await self.sqs.delete_message(
            QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
        )
        self.metrics.count("EventsDeadLettered")
        log.error("consumer.dead_lettered", error=error[:300], receives=receives)
