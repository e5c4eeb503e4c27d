"""The audit trail: what admins did and saw, append-only.

A change is two records linked by ``actionId``: ``requested`` (who, what,
target, reason, the state before) written *before* the peer is called, then
``succeeded`` (the state after) or ``failed`` (the error). A crash between the
two leaves the request on record, never an unrecorded change. Reads of one
record are ``viewed``. Record ids sort by time:
``<at as 20261122T045635.123456Z>-<8 hex>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, TypeVar

import structlog

from mindlinks_admin.domain import Actor, Filters, Outcome
from mindlinks_admin.store import AuditStore
from mindlinks_kit.context import correlation_id
from mindlinks_kit.dynamo import CursorCodec, InvalidCursor, Item
from mindlinks_kit.errors import Problem

log = structlog.get_logger("mindlinks.admin.audit")
T = TypeVar("T")
Phase = Literal["requested", "succeeded", "failed", "viewed"]
MAX_QUERIES_PER_PAGE = 40
"""Filters can leave index pages empty: a page stops after this many reads
and answers with a cursor to continue."""


_UNRECORDED: dict[Phase, str] = {
    "requested": "Nothing was changed: the audit trail could not be written",
    "viewed": "Nothing is shown: the audit trail could not be written",
    "succeeded": "The change was made, but its outcome could not be recorded",
    "failed": "The change failed, and its failure could not be recorded",
}


class AuditUnavailable(Problem):
    status = 503
    code = "audit-unavailable"
    title = "The audit trail could not be written"


def record_id(at: datetime) -> str:
    return at.strftime("%Y%m%dT%H%M%S.%fZ") + "-" + secrets.token_hex(4)


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="microseconds").replace("+00:00", "Z")


def problem_of(exc: BaseException) -> dict[str, Any]:
    """What a failed record keeps of the error (what the admin was told)."""
    if isinstance(exc, Problem):
        body = exc.body()
        return {"status": body["status"], "code": body["code"], "detail": body["detail"]}
    return {"status": 500, "code": "internal", "detail": type(exc).__name__}


class Audit:
    def __init__(self, store: AuditStore, cursors: CursorCodec, days_per_page: int) -> None:
        self.store = store
        self.cursors = cursors
        self.days_per_page = days_per_page

    async def _write(
        self,
        actor: Actor,
        action: str,
        target: str,
        phase: Phase,
        *,
        action_id: str | None = None,
        reason: str | None = None,
        before: Any = None,
        after: Any = None,
        error: Any = None,
    ) -> str:
        at = datetime.now(UTC)
        action_id = action_id or uuid.uuid4().hex
        record = {
            "id": record_id(at),
            "actionId": action_id,
            "day": at.date().isoformat(),
            "at": _iso(at),
            "actorUserId": actor.user_id,
            "action": action,
            "target": target,
            "phase": phase,
            "reason": reason,
            "before": before,
            "after": after,
            "error": error,
            "correlationId": correlation_id(),
        }
        try:
            await self.store.append(record)
        except Exception:
            log.exception("audit.write_failed", action=action, target=target, phase=phase)
            raise AuditUnavailable(_UNRECORDED[phase]) from None
        return action_id

    async def viewed(self, actor: Actor, action: str, target: str) -> None:
        await self._write(actor, action, target, "viewed")

    async def change(
        self,
        actor: Actor,
        action: str,
        target: str,
        *,
        reason: str | None,
        before: Any,
        apply: Callable[[], Awaitable[T]],
    ) -> T:
        """Record the request, ``apply`` it, record how it went (``after`` is its result)."""
        return await self.changes(
            actor,
            action,
            {target: before},
            reason=reason,
            apply=apply,
            outcomes=lambda result: {target: Outcome(after=result)},
        )

    async def changes(
        self,
        actor: Actor,
        action: str,
        befores: Mapping[str, Any],
        *,
        reason: str | None,
        apply: Callable[[], Awaitable[T]],
        outcomes: Callable[[T], Mapping[str, Outcome]],
    ) -> T:
        """One action on several targets (one call to the peer): a ``requested``
        record per target before, then each target's ``succeeded``/``failed``."""
        action_id = uuid.uuid4().hex

        async def write(target: str, phase: Phase, **fields: Any) -> None:
            await self._write(
                actor, action, target, phase, action_id=action_id, reason=reason, **fields
            )

        await asyncio.gather(*(write(t, "requested", before=b) for t, b in befores.items()))
        try:
            result = await apply()
        except Exception as exc:
            # The admin learns why the change failed even if recording it fails.
            with contextlib.suppress(AuditUnavailable):
                error = problem_of(exc)
                await asyncio.gather(*(write(t, "failed", error=error) for t in befores))
            raise
        told = outcomes(result)
        await asyncio.gather(
            *(
                write(t, "failed", error=o.error)
                if o.error is not None
                else write(t, "succeeded", after=o.after)
                for t, o in ((t, told.get(t, Outcome())) for t in befores)
            )
        )
        return result

    # reading --------------------------------------------------------------------

    async def page(
        self, filters: Filters, limit: int, cursor: str | None
    ) -> tuple[list[Item], str | None]:
        """Records newest first. With a target or an actor one index partition
        is read; otherwise the trail is walked day by day back to its first."""
        position = self.cursors.decode(cursor, filters.scope)
        if filters.target is not None:
            where = {"actorUserId": filters.actor_user_id, "action": filters.action}
            found = await self._partition(
                "by-target", "target", filters.target, where, limit, position
            )
        elif filters.actor_user_id is not None:
            found = await self._partition(
                "by-actor",
                "actorUserId",
                filters.actor_user_id,
                {"action": filters.action},
                limit,
                position,
            )
        else:
            found = await self._days({"action": filters.action}, limit, position)
        items, next_position = found
        return items, self.cursors.encode(next_position, filters.scope)

    async def _partition(
        self,
        index: str,
        key: str,
        value: str,
        where: dict[str, str | None],
        limit: int,
        position: Item | None,
    ) -> tuple[list[Item], Item | None]:
        wanted = {k: v for k, v in where.items() if v is not None}
        start = _start(position)
        items: list[Item] = []
        for _ in range(MAX_QUERIES_PER_PAGE):
            batch, start = await self.store.newest(
                index, key, value, limit=limit - len(items), start=start, where=wanted
            )
            items.extend(batch)
            if start is None or len(items) >= limit:
                break
        return items, {"key": start} if start is not None else None

    async def _days(
        self, where: dict[str, str | None], limit: int, position: Item | None
    ) -> tuple[list[Item], Item | None]:
        first = await self.store.first_day()
        if first is None:
            return [], None
        wanted = {k: v for k, v in where.items() if v is not None}
        day = _day(position) if position else datetime.now(UTC).date()
        start = _start(position)
        items: list[Item] = []
        days = queries = 0
        while day.isoformat() >= first and len(items) < limit:
            if days >= self.days_per_page or queries >= MAX_QUERIES_PER_PAGE:
                break
            batch, start = await self.store.newest(
                "by-day",
                "day",
                day.isoformat(),
                limit=limit - len(items),
                start=start,
                where=wanted,
            )
            queries += 1
            items.extend(batch)
            if start is None:
                day -= timedelta(days=1)
                days += 1
        if day.isoformat() < first:
            return items, None
        return items, {"day": day.isoformat(), "key": start}


def _start(position: Item | None) -> Item | None:
    if position is None:
        return None
    key = position.get("key")
    if key is not None and not isinstance(key, dict):
        raise InvalidCursor()
    return key


def _day(position: Item) -> date:
    try:
        return date.fromisoformat(str(position["day"]))
    except (KeyError, ValueError):
        raise InvalidCursor() from None
