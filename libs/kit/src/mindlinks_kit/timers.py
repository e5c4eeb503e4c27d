"""Durable timers: a service sets one in a unit of work, and its handler runs
once, in a unit of work of its own, when it is due.

- ``Timers.set(uow, name, key, due, payload)`` puts one item per (name, key)
  into the service's ``timers`` table, in the same transaction as the state
  change that set it; setting it again replaces it (a new ``token``), and
  ``cancel`` deletes it. The item is the truth; how it is delivered is not.
- Delivery puts a *firing* (name, key, token) on the service's own queue:
  EventBridge Scheduler does at the due time in AWS (``TimerSchedules``,
  created after commit), and the sweep here does for any item past due by
  more than ``grace`` (all of them in local mode, where there is no
  scheduler; only lost schedules in AWS).
- Firing (``Timers.fire``, run by the consumer): the item must still hold
  the firing's token — a cancelled or replaced timer's late firing is a
  no-op. The claim is the transaction's first write, a delete of the item
  conditioned on that token, so of two deliveries of one firing only one
  commits its handler's writes (docs/adr/0011-timers.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import structlog
from pydantic import BaseModel

from mindlinks_kit import clock
from mindlinks_kit.declaration import NoPayload, Service
from mindlinks_kit.dynamo import ConditionFailed, Table, UnitOfWork, to_wire, values
from mindlinks_kit.observability import Metrics

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient
    from types_aiobotocore_sqs import SQSClient

    from mindlinks_kit.timer_schedules import TimerSchedules

P = TypeVar("P", bound=BaseModel)
log = structlog.get_logger("mindlinks.timers")
FIRING = "mindlinks-timer"
"""The key of a queue message that is a timer firing (events have ``detail-type``)."""
DUE = "t"
"""``dueShard`` of a timer not yet handed to the queue by the sweep."""
UNSCHEDULED = "s"
"""``scheduleShard`` of a timer whose schedule is not created yet (AWS only)."""
_SWEEP_PAGE = 100


class AlreadyFired(Exception):
    """The timer's item no longer holds the firing's token: another delivery
    fired it first, or it was cancelled or set again meanwhile."""


@dataclass(frozen=True)
class Firing:
    """What the queue carries when a timer is due."""

    name: str
    key: str
    token: str
    due_at: str

    @property
    def id(self) -> str:
        return f"{self.name}#{self.key}#{self.token}"

    def body(self) -> str:
        fields = {"name": self.name, "key": self.key, "token": self.token, "dueAt": self.due_at}
        return json.dumps({FIRING: fields}, separators=(",", ":"))

    @classmethod
    def of(cls, envelope: Mapping[str, Any]) -> Firing:
        fields = envelope[FIRING]
        return cls(str(fields["name"]), str(fields["key"]), str(fields["token"]), fields["dueAt"])


class Fired(Generic[P]):
    """A due timer as its handler receives it."""

    def __init__(self, name: str, key: str, due: datetime, token: str, payload: P) -> None:
        self.name = name
        self.key = key
        self.due = due
        self.token = token
        self.payload = payload


TimerHandler = Callable[[Fired[Any], UnitOfWork], Awaitable[None]]


def item_id(name: str, key: str) -> str:
    return f"{name}#{key}"


def firing_of(item: Mapping[str, Any]) -> Firing:
    return Firing(item["timer"], item["key"], item["token"], item["dueAt"])


class Timers:
    """A service's timers: ``set``/``cancel`` in a unit of work, ``fire`` a
    firing, and the sweep that fires what is past due."""

    def __init__(
        self,
        table: Table,
        service: Service,
        dynamodb: DynamoDBClient,
        metrics: Metrics,
        *,
        tick_seconds: float = 5.0,
        grace_seconds: float = 0.0,
        idle_sweep_seconds: float = 60.0,
    ) -> None:
        self.table = table
        self.service = service
        self.dynamodb = dynamodb
        self.metrics = metrics
        self.tick_seconds = tick_seconds
        self.grace = timedelta(seconds=grace_seconds)
        """How late past due an item must be before the sweep fires it itself:
        0 where nothing else delivers (local mode); in AWS long enough that
        only a lost schedule is caught."""
        self.idle_sweep_seconds = idle_sweep_seconds
        """Without a scheduler (local mode) the sweep queries only when the
        clock reaches a due time it knows (the last sweep's, or one set here
        since), or this long has passed (a timer written by another process):
        an idle fleet's timers cost one query a minute, not one a tick, and a
        set or a cancel none."""
        self.next_due: datetime | None = None
        """The earliest due time the last sweep left pending (None: none)."""
        self.set_due: datetime | None = None
        """The earliest due time set in this process since the last sweep began."""
        self.handlers: dict[str, TimerHandler] = {}
        self.schedules: TimerSchedules | None = None
        """EventBridge Scheduler delivery (AWS); None: the sweep alone delivers."""
        self.queue: tuple[SQSClient, str] | None = None
        """Where firings go: the service's own queue (set when it is wired)."""
        self._wake = asyncio.Event()

    def set(
        self,
        uow: UnitOfWork,
        name: str,
        key: str,
        due: datetime,
        payload: BaseModel | None = None,
    ) -> str:
        """Stage the timer (name, key) to fire at ``due``, replacing any
        pending one of the same key; returns its token."""
        timer = self.service.timer(name)
        payload = NoPayload() if payload is None else payload
        if not isinstance(payload, timer.payload):
            raise TypeError(f"{name} takes {timer.payload.__name__}, not {type(payload).__name__}")
        if due.tzinfo is None:
            raise ValueError("a timer's due time must be timezone-aware")
        item: dict[str, Any] = {
            "id": item_id(name, key),
            "timer": name,
            "key": key,
            "token": uuid.uuid4().hex,
            "dueAt": clock.iso(due),
            "dueShard": DUE,
            "setAt": clock.now_iso(),
            "payload": payload.model_dump_json(by_alias=True),
        }
        if self.schedules is not None:
            item["scheduleShard"] = UNSCHEDULED
            schedules = self.schedules
            uow.after_commit.append(lambda: schedules.hand(item))
            uow.after_commit.append(self._wake.set)
        else:
            # Locally the loop learns the due time here, not by a query.
            uow.after_commit.append(lambda: self._note_due(due))
        uow.put(self.table, item)
        return str(item["token"])

    def cancel(self, uow: UnitOfWork, name: str, key: str) -> None:
        """Stage the removal of the timer (name, key), if there is one: a
        firing of it delivered later does nothing."""
        self.service.timer(name)
        uow.delete(self.table, {"id": item_id(name, key)})
        if self.schedules is not None:
            schedules = self.schedules
            uow.after_commit.append(lambda: schedules.hand_cancel(item_id(name, key)))
            uow.after_commit.append(self._wake.set)

    async def pending(self, name: str, key: str) -> dict[str, Any] | None:
        """The timer (name, key) as stored, while it has not fired."""
        return await self.table.get({"id": item_id(name, key)})

    async def fire(self, firing: Firing) -> bool:
        """Run the firing's handler once; False when it was stale or a duplicate."""
        handler = self.handlers[firing.name]
        identity = item_id(firing.name, firing.key)
        item = await self.table.get({"id": identity})
        if item is None or item["token"] != firing.token:
            self.metrics.count("TimersStale", timer=firing.name)
            return False
        payload = self.service.timer(firing.name).payload.model_validate_json(item["payload"])
        uow = UnitOfWork(self.dynamodb)
        uow.delete(
            self.table,
            {"id": identity},
            condition="#token = :token",
            names={"#token": "token"},
            values=values(token=firing.token),
            on_conflict=AlreadyFired(),
        )
        due = clock.parse(item["dueAt"])
        await handler(Fired(firing.name, firing.key, due, firing.token, payload), uow)
        _merge_claim(uow, self.table.name, identity)
        try:
            await uow.commit()
        except AlreadyFired:
            self.metrics.count("TimersDuplicate", timer=firing.name)
            return False
        self.metrics.count("TimersFired", timer=firing.name)
        return True

    async def sweep(self) -> int:
        """Hand every timer past due by more than ``grace`` to the queue and
        note the earliest still pending (``next_due``); returns how many."""
        if self.queue is None:
            raise RuntimeError(f"{self.service.name}'s timers have no queue")
        sqs, queue_url = self.queue
        cutoff = clock.iso(clock.now() - self.grace)
        handed = 0
        start: dict[str, Any] | None = None
        self.next_due = None
        self.set_due = None  # what is set from now on may be missing from the query
        while True:
            # In due order: what is past the cutoff ends the sweep and is the next due.
            items, start = await self.table.query(
                "dueShard = :due",
                values=values(due=DUE),
                index="due",
                limit=_SWEEP_PAGE,
                start=start,
            )
            for item in items:
                if item["dueAt"] > cutoff:
                    self.next_due = clock.parse(item["dueAt"])
                    start = None
                    break
                await sqs.send_message(QueueUrl=queue_url, MessageBody=firing_of(item).body())
                # Off the index; a crash before this sends it again, and the
                # second firing finds it fired (or still fires it once).
                with contextlib.suppress(ConditionFailed):
                    await self.table.update(
                        {"id": item["id"]},
                        "REMOVE dueShard SET sentAt = :now",
                        condition="#token = :token",
                        names={"#token": "token"},
                        values=values(now=clock.now_iso(), token=item["token"]),
                    )
                handed += 1
            if start is None:
                break
        if handed:
            self.metrics.count("TimersSwept", handed)
        return handed

    def _note_due(self, due: datetime) -> None:
        self.set_due = due if self.set_due is None else min(self.set_due, due)

    def _sweep_due(self, woken: bool, since_sweep: float) -> bool:
        """Whether the local loop must query now: the clock reached a due time
        it knows (the last sweep's, or one set here since), or it has not
        looked for ``idle_sweep_seconds`` (a timer another process wrote)."""
        if woken or since_sweep >= self.idle_sweep_seconds:
            return True
        known = [due for due in (self.next_due, self.set_due) if due is not None]
        return bool(known) and clock.now() - self.grace >= min(known)

    async def run(self) -> None:
        """Background loop. In AWS: schedule what commits hand over at once;
        every ``tick_seconds``, re-create missing schedules and sweep. Locally:
        every ``tick_seconds``, sweep if anything can be due (``_sweep_due``):
        a moved fleet clock is seen within a tick, and an idle service makes
        no call."""
        loop = asyncio.get_running_loop()
        next_tick = loop.time() + self.tick_seconds
        swept_at = loop.time() - self.idle_sweep_seconds  # at start: whatever is due
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.0, next_tick - loop.time()))
            woken = self._wake.is_set()
            self._wake.clear()
            try:
                if self.schedules is not None:
                    if woken:
                        await self.schedules.publish_handed()
                    if loop.time() >= next_tick:
                        next_tick = loop.time() + self.tick_seconds
                        await self.schedules.flush()
                        await self.sweep()
                    continue
                if loop.time() >= next_tick:
                    next_tick = loop.time() + self.tick_seconds
                if self._sweep_due(woken, loop.time() - swept_at):
                    swept_at = loop.time()
                    await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("timers.run_failed")
                await asyncio.sleep(1)


def _merge_claim(uow: UnitOfWork, table: str, identity: str) -> None:
    """When the handler set or cancelled its own timer again, that write
    replaces the claim (one transaction touches an item once) and carries
    its condition, first in the transaction as the claim was."""
    claim = uow.writes[0]
    claimed = to_wire({"id": identity})["id"]
    for index, write in enumerate(uow.writes[1:], start=1):
        body = next(iter(write.operation.values()))
        if body["TableName"] != table or (body.get("Key") or body["Item"])["id"] != claimed:
            continue
        condition = next(iter(claim.operation.values()))
        for field in ("ConditionExpression", "ExpressionAttributeNames"):
            body[field] = condition[field]
        body["ExpressionAttributeValues"] = condition["ExpressionAttributeValues"]
        write.on_condition_failed = claim.on_condition_failed
        uow.writes[0] = write
        del uow.writes[index]
        return


def due_in(seconds: float) -> datetime:
    """The fleet clock's now plus ``seconds`` (a due time)."""
    return clock.now() + timedelta(seconds=seconds)
