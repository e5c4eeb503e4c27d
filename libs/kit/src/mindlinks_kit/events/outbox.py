"""The transactional outbox and its relay.

``Outbox.add`` puts the event into the same ``UnitOfWork`` as the state change,
so both commit or neither does. ``Relay`` publishes pending outbox items to
EventBridge and then marks them sent; a crash in between re-publishes on the
next sweep (consumers are idempotent), it never drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import structlog
from pydantic import BaseModel

from mindlinks_kit.clock import now_iso
from mindlinks_kit.context import correlation_id
from mindlinks_kit.declaration import Event
from mindlinks_kit.dynamo import Table, UnitOfWork, values
from mindlinks_kit.events.envelope import SOURCE_PREFIX, Detail
from mindlinks_kit.events.lingering import Lingering
from mindlinks_kit.observability import Metrics

if TYPE_CHECKING:
    from types_aiobotocore_events import EventBridgeClient

log = structlog.get_logger("mindlinks.outbox")
PENDING = "p"
SENT_RETENTION_SECONDS = 7 * 24 * 3600
_BATCH = 10  # PutEvents takes at most ten entries
_HANDED = 1000
MARK_LINGER_SECONDS = 1.0
"""How long a published item waits to be marked sent together with the next
ones (one call for all): a task that dies meanwhile leaves them pending, and
its replacement's sweep publishes them again (consumers deduplicate)."""
_MARKS = 100  # a transaction's writes


class Outbox:
    def __init__(
        self, table: Table, service: str, catalog: Mapping[str, Event], relay: Relay
    ) -> None:
        self.table = table
        self.source = SOURCE_PREFIX + service
        self.service = service
        self.catalog = catalog
        self.relay = relay

    def add(self, uow: UnitOfWork, name: str, payload: BaseModel) -> Detail:
        event = self.catalog.get(name)
        if event is None or event.producer != self.service:
            raise ValueError(f"{self.service} does not publish {name!r}")
        if not isinstance(payload, event.payload):
            raise TypeError(f"{name} takes {event.payload.__name__}, not {type(payload).__name__}")
        detail = Detail(
            version=event.version,
            correlation_id=correlation_id(),
            data=payload.model_dump(mode="json", by_alias=True),
        )
        item = {
            "id": detail.id,
            "pendingShard": PENDING,
            "createdAt": detail.occurred_at,
            "detailType": name,
            "source": self.source,
            "detail": detail.model_dump_json(by_alias=True),
        }
        uow.put(self.table, item, condition="attribute_not_exists(id)")
        uow.after_commit.append(lambda: self.relay.hand(item))
        return detail


class Relay:
    """Publishes pending outbox items; handed each one by its commit, sweeps periodically.

    A commit hands the relay the items it wrote, and the relay publishes them
    without querying the outbox for them (the query cost a call per commit and
    another for the sweep a few seconds later). The sweep catches what that
    did not send: a publish that failed (a sweep follows it within
    ``interval``), or items a crashed task committed but never sent (its
    replacement sweeps ``interval`` after it starts). It runs every
    ``interval`` after it found work and backs off (doubling) to
    ``idle_interval`` while it finds nothing, so an idle task costs one query
    a minute, not one every 5 s.
    """

    def __init__(
        self,
        table: Table,
        events: EventBridgeClient,
        bus: str,
        metrics: Metrics,
        interval: float = 5.0,
        idle_interval: float = 60.0,
    ) -> None:
        self.table = table
        self.events = events
        self.bus = bus
        self.metrics = metrics
        self.interval = interval
        self.idle_interval = max(idle_interval, interval)
        self.sweep_after = interval
        """Seconds until the next sweep unless a commit wakes the relay first."""
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._handed: list[dict[str, Any]] = []
        """Committed items not yet published (at most ``_HANDED``; the sweep
        finds any beyond, e.g. where nothing runs the relay)."""
        self.marks = Lingering(self._mark_sent, linger=MARK_LINGER_SECONDS, size=_MARKS)
        """Ids of published items, marked sent together."""

    def wake(self) -> None:
        self._wake.set()

    def hand(self, item: dict[str, Any]) -> None:
        """A committed outbox item to publish now."""
        if len(self._handed) < _HANDED:
            self._handed.append(item)
        self._wake.set()

    async def publish_handed(self) -> int:
        """Publish the items commits handed over; returns how many failed."""
        async with self._lock:
            handed, self._handed = self._handed, []
            sent = 0
            for start in range(0, len(handed), _BATCH):
                sent += await self._publish(handed[start : start + _BATCH])
        return len(handed) - sent

    async def pending(self, limit: int = 100) -> list[dict[str, Any]]:
        """Items committed and not yet published (those published meanwhile
        are marked first)."""
        await self.marks.flush()
        items, _ = await self.table.query(
            "pendingShard = :p", values=values(p=PENDING), index="pending", limit=limit
        )
        return items

    async def flush(self) -> int:
        """Publish everything pending now; returns how many were sent."""
        sent = 0
        async with self._lock:
            while batch := await self.pending():
                found = {item["id"] for item in batch}
                self._handed = [item for item in self._handed if item["id"] not in found]
                for start in range(0, len(batch), _BATCH):
                    sent += await self._publish(batch[start : start + _BATCH])
                if len(batch) < 100:
                    break
            await self.marks.flush()
        return sent

    async def _publish(self, items: list[dict[str, Any]]) -> int:
        response = await self.events.put_events(
            Entries=[
                {
                    "EventBusName": self.bus,
                    "Source": item["source"],
                    "DetailType": item["detailType"],
                    "Detail": item["detail"],
                }
                for item in items
            ]
        )
        published = []
        for item, entry in zip(items, response["Entries"], strict=True):
            if entry.get("ErrorCode"):
                log.warning(
                    "outbox.publish_failed", event_id=item["id"], error=entry.get("ErrorCode")
                )
                continue
            published.append(item["id"])
        self.metrics.count("EventsPublished", len(published))
        await self.marks.add(*published)
        return len(published)

    async def _mark_sent(self, ids: list[str]) -> None:
        """Take published items off the pending index: one call for up to a
        hundred (a transaction of updates when there are several)."""
        expression = "REMOVE pendingShard SET sentAt = :now, expiresAt = :ttl"
        marks = values(now=now_iso(), ttl=int(time.time()) + SENT_RETENTION_SECONDS)
        if len(ids) == 1:
            await self.table.update({"id": ids[0]}, expression, values=marks)
            return
        uow = UnitOfWork(self.table.client)
        for item_id in dict.fromkeys(ids):
            uow.update(self.table, {"id": item_id}, expression, values=marks)
        await uow.commit()

    async def run(self) -> None:
        """Background loop: publish what commits hand over, and sweep (see the class)."""
        sweep_at = time.monotonic() + self.sweep_after
        while True:
            woken = False
            with contextlib.suppress(TimeoutError):
                wait = max(0.0, sweep_at - time.monotonic())
                woken = await asyncio.wait_for(self._wake.wait(), timeout=wait)
            self._wake.clear()
            try:
                if woken:
                    if await self.publish_handed():
                        sweep_at = min(sweep_at, time.monotonic() + self.interval)
                    continue
                sent = await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox.relay_failed")
                self.sweep_after = self.interval
                sweep_at = time.monotonic() + self.interval
                await asyncio.sleep(1)
                continue
            self.sweep_after = self.next_sweep(woken=False, sent=sent)
            sweep_at = time.monotonic() + self.sweep_after

    def next_sweep(self, *, woken: bool, sent: int) -> float:
        """Back to ``interval`` after any activity; else twice as long, capped."""
        if woken or sent:
            return self.interval
        return min(self.sweep_after * 2, self.idle_interval)

    async def backlog(self) -> int:
        """Items committed and not yet published."""
        return len(await self.pending())
