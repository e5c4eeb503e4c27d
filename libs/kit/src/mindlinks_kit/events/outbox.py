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
from mindlinks_kit.observability import Metrics

if TYPE_CHECKING:
    from types_aiobotocore_events import EventBridgeClient

log = structlog.get_logger("mindlinks.outbox")
PENDING = "p"
SENT_RETENTION_SECONDS = 7 * 24 * 3600
_BATCH = 10  # PutEvents takes at most ten entries


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
        uow.put(
            self.table,
            {
                "id": detail.id,
                "pendingShard": PENDING,
                "createdAt": detail.occurred_at,
                "detailType": name,
                "source": self.source,
                "detail": detail.model_dump_json(by_alias=True),
            },
            condition="attribute_not_exists(id)",
        )
        uow.after_commit.append(self.relay.wake)
        return detail


class Relay:
    """Publishes pending outbox items; woken after each commit, sweeps periodically.

    The sweep catches what a wake-up did not: a publish that failed, or items a
    crashed task committed but never sent. It runs every ``interval`` after
    activity and backs off (doubling) to ``idle_interval`` while it finds
    nothing, so an idle task costs one query a minute, not one every 5 s.
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

    def wake(self) -> None:
        self._wake.set()

    async def pending(self, limit: int = 100) -> list[dict[str, Any]]:
        items, _ = await self.table.query(
            "pendingShard = :p", values=values(p=PENDING), index="pending", limit=limit
        )
        return items

    async def flush(self) -> int:
        """Publish everything pending now; returns how many were sent."""
        sent = 0
        async with self._lock:
            while batch := await self.pending():
                for start in range(0, len(batch), _BATCH):
                    sent += await self._publish(batch[start : start + _BATCH])
                if len(batch) < 100:
                    break
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
        sent = 0
        for item, entry in zip(items, response["Entries"], strict=True):
            if entry.get("ErrorCode"):
                log.warning(
                    "outbox.publish_failed", event_id=item["id"], error=entry.get("ErrorCode")
                )
                continue
            await self.table.update(
                {"id": item["id"]},
                "REMOVE pendingShard SET sentAt = :now, expiresAt = :ttl",
                values=values(now=now_iso(), ttl=int(time.time()) + SENT_RETENTION_SECONDS),
            )
            sent += 1
        self.metrics.count("EventsPublished", sent)
        return sent

    async def run(self) -> None:
        """Background loop: publish on wake-up, and sweep (see the class)."""
        while True:
            woken = False
            with contextlib.suppress(TimeoutError):
                woken = await asyncio.wait_for(self._wake.wait(), timeout=self.sweep_after)
            self._wake.clear()
            try:
                sent = await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox.relay_failed")
                self.sweep_after = self.interval
                await asyncio.sleep(1)
                continue
            self.sweep_after = self.next_sweep(woken=woken, sent=sent)

    def next_sweep(self, *, woken: bool, sent: int) -> float:
        """Back to ``interval`` after any activity; else twice as long, capped."""
        if woken or sent:
            return self.interval
        return min(self.sweep_after * 2, self.idle_interval)

    async def backlog(self) -> int:
        return len(await self.pending())
