"""Timers delivered by EventBridge Scheduler (AWS): one one-time schedule per
pending timer, in the schedule group ``<prefix>timers``, whose target sends
the timer's firing to the service's own queue.

Schedules are made after commit, as the outbox relay publishes after commit:
a commit hands its timers over, and a sweep of the ``unscheduled`` index
re-creates what a failed call or a crashed task left without a schedule. A
cancelled timer's schedule is deleted after commit; if that fails, it fires
later, finds no item and does nothing (and deletes itself after firing).
"""

from __future__ import annotations

import contextlib
import hashlib
from datetime import timedelta
from typing import Any

import structlog
from botocore.exceptions import ClientError

from mindlinks_kit import clock
from mindlinks_kit.dynamo import ConditionFailed, Table, values
from mindlinks_kit.observability import Metrics
from mindlinks_kit.timers import UNSCHEDULED, firing_of

log = structlog.get_logger("mindlinks.timers")
SCHEDULE_GROUP = "timers"
"""The schedule group's unprefixed name (one per environment, every service's)."""
_HANDED = 1000
_PAGE = 100


def schedule_name(service: str, identity: str) -> str:
    """The schedule of timer ``identity`` (``name#key``): the service's name
    first, so its task role may touch only its own (IAM: ``<service>-*``)."""
    return f"{service}-{hashlib.sha256(identity.encode()).hexdigest()[:40]}"


def at_expression(due_at: str) -> str:
    """Scheduler's one-time expression (UTC), to the second: rounded up, so
    a timer never fires before its due time."""
    due = clock.parse(due_at)
    if due.microsecond:
        due = due.replace(microsecond=0) + timedelta(seconds=1)
    return f"at({due.strftime('%Y-%m-%dT%H:%M:%S')})"


class TimerSchedules:
    def __init__(
        self,
        scheduler: Any,
        table: Table,
        *,
        service: str,
        group: str,
        role_arn: str,
        queue_arn: str,
        metrics: Metrics,
    ) -> None:
        self.scheduler = scheduler
        self.table = table
        self.service = service
        self.group = group
        self.role_arn = role_arn
        self.queue_arn = queue_arn
        self.metrics = metrics
        self._handed: list[dict[str, Any]] = []
        self._cancelled: list[str] = []

    def hand(self, item: dict[str, Any]) -> None:
        """A committed timer to schedule now (the sweep finds any beyond ``_HANDED``)."""
        if len(self._handed) < _HANDED:
            self._handed.append(item)

    def hand_cancel(self, identity: str) -> None:
        if len(self._cancelled) < _HANDED:
            self._cancelled.append(identity)

    async def publish_handed(self) -> int:
        """Create or delete the schedules commits handed over; returns how many."""
        handed, self._handed = self._handed, []
        cancelled, self._cancelled = self._cancelled, []
        for identity in dict.fromkeys(cancelled):
            await self.delete(identity)
        for item in handed:
            await self.put(item)
        return len(handed) + len(cancelled)

    async def flush(self) -> int:
        """Handed work, then every timer still without a schedule."""
        done = await self.publish_handed()
        while True:
            items, _ = await self.table.query(
                "scheduleShard = :s",
                values=values(s=UNSCHEDULED),
                index="unscheduled",
                limit=_PAGE,
            )
            for item in items:
                await self.put(item)
            done += len(items)
            if len(items) < _PAGE:
                return done

    async def put(self, item: dict[str, Any]) -> None:
        """Create (or, for a timer set again, update) its schedule, then take
        it off the ``unscheduled`` index unless it changed meanwhile."""
        firing = firing_of(item)
        request: dict[str, Any] = {
            "Name": schedule_name(self.service, item["id"]),
            "GroupName": self.group,
            "ScheduleExpression": at_expression(firing.due_at),
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": self.queue_arn, "RoleArn": self.role_arn, "Input": firing.body()},
            "ActionAfterCompletion": "DELETE",
        }
        try:
            await self.scheduler.create_schedule(**request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConflictException":
                raise
            await self.scheduler.update_schedule(**request)
        self.metrics.count("TimersScheduled")
        # Unless fired, cancelled or set again: that change handles its own schedule.
        with contextlib.suppress(ConditionFailed):
            await self.table.update(
                {"id": item["id"]},
                "REMOVE scheduleShard SET scheduledAt = :now",
                condition="#token = :token",
                names={"#token": "token"},
                values=values(now=clock.now_iso(), token=item["token"]),
            )

    async def delete(self, identity: str) -> None:
        try:
            await self.scheduler.delete_schedule(
                Name=schedule_name(self.service, identity), GroupName=self.group
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
