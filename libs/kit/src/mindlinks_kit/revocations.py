"""Fleet-wide token revocation: revoked access tokens stop working on every
service within seconds, not at expiry.

The fleet declares its revocation events (``Fleet.revocations``): each names
the token claim it revokes (``sub``: a subject, ``sid``: a session) and the
payload field holding the value. Each service consumes them on its own queue
and records ``claim#value → revokedAt`` in its derived ``revocations`` table.
SQS gives an event to one task of the service, so every task reloads its
in-memory copy from that table before it checks a token, when the copy is older
than ``revocation_refresh_seconds`` (one reload at a time, shared by the
requests that wait for it). An idle task therefore reads nothing, and a busy
one at most one scan per interval. A token
is refused when a claim it carries was revoked at or after the token was
issued — or at all, for a ``permanent`` revocation (an ended session never
comes back). Records expire once every token issued before them has
(``revocation_retention_seconds``). Checking a token costs a dictionary lookup
per declared claim; there is no per-request call.

Until the fleet measured its idle AWS calls (issue 13), every task rescanned
the table on a 2 s timer: 5.5 scans a second for an idle local fleet, most of
its AWS traffic, and the same rent per task in AWS.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import structlog

from mindlinks_kit.declaration import Revocation
from mindlinks_kit.dynamo import Item, Table, UnitOfWork
from mindlinks_kit.events.envelope import Delivered

log = structlog.get_logger("mindlinks.revocations")

FOREVER_MS = 2**62
"""What a permanent revocation compares ``iat`` against: later than any token."""


def _key(claim: str, value: str) -> str:
    return f"{claim}#{value}"


def _record(item: Item) -> tuple[tuple[str, str], int]:
    """(claim, value) and the effective revocation time of a stored record.
    Records written before claims were recorded revoke a subject (``sub``)."""
    claim = str(item.get("claim", "sub"))
    value = str(item.get("value", item["subject"]))
    revoked_ms = FOREVER_MS if item.get("permanent") else int(item["revokedAtMs"])
    return (claim, value), revoked_ms


class Revocations:
    def __init__(
        self,
        table: Table,
        rules: Iterable[Revocation],
        *,
        retention_seconds: int,
        refresh_seconds: float,
    ) -> None:
        self.table = table
        self.rules = {rule.event: rule for rule in rules}
        self.claims = tuple(sorted({rule.claim for rule in self.rules.values()}))
        self.retention_seconds = retention_seconds
        self.refresh_seconds = refresh_seconds
        self._revoked_ms: dict[tuple[str, str], int] = {}
        self._loaded_at = -math.inf
        self._loading: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._revoked_ms)

    async def is_revoked(self, claims: dict[str, Any]) -> bool:
        # ``iat`` has whole seconds: a token issued in the same second as the
        # revocation is refused too (the safe side).
        issued_ms = int(claims.get("iat", 0)) * 1000
        await self.fresh()
        for claim in self.claims:
            value = claims.get(claim)
            if not isinstance(value, str):
                continue
            revoked_ms = self._revoked_ms.get((claim, value))
            if revoked_ms is not None and issued_ms <= revoked_ms:
                return True
        return False

    def revoked_at_ms(self, claim: str, value: str) -> int | None:
        """When ``claim``/``value`` was last revoked, per the copy in memory
        (``fresh()`` first for one at most ``refresh_seconds`` old)."""
        return self._revoked_ms.get((claim, value))

    def note(self, claim: str, value: str, revoked_ms: int) -> None:
        if revoked_ms > self._revoked_ms.get((claim, value), -1):
            self._revoked_ms[(claim, value)] = revoked_ms

    async def handle(self, event: Delivered[Any], uow: UnitOfWork) -> None:
        """The consumer's handler for every revocation event."""
        rule = self.rules[event.name]
        value = str(event.payload.model_dump(by_alias=True)[rule.field])
        revoked_ms = int(datetime.fromisoformat(event.detail.occurred_at).timestamp() * 1000)
        key = _key(rule.claim, value)
        known = await self.table.get({"subject": key})
        if known is not None:
            _, known_ms = _record(known)
            if known_ms >= revoked_ms:
                self.note(rule.claim, value, known_ms)
                return  # a late, older revocation never replaces a newer one
        uow.put(
            self.table,
            {
                "subject": key,
                "claim": rule.claim,
                "value": value,
                "revokedAtMs": revoked_ms,
                "permanent": rule.permanent,
                "eventId": event.id,
                "expiresAt": revoked_ms // 1000 + self.retention_seconds,
            },
        )
        self.note(rule.claim, value, FOREVER_MS if rule.permanent else revoked_ms)

    async def refresh(self) -> None:
        """Reload every live record (the table holds only the last hour's)."""
        now = time.time()
        fresh: dict[tuple[str, str], int] = {}
        start: dict[str, Any] | None = None
        while True:
            items, start = await self.table.scan(limit=500, start=start)
            for item in items:
                if int(item.get("expiresAt", 0)) > now:
                    found, revoked_ms = _record(item)
                    fresh[found] = max(revoked_ms, fresh.get(found, -1))
            if start is None:
                break
        self._revoked_ms = fresh

    async def fresh(self) -> None:
        """Reload the copy if it is older than ``refresh_seconds``; concurrent
        callers share one reload. A failed reload keeps the last copy (and is
        logged) and is not retried before the next interval: a table that does
        not answer must not cost a scan per request."""
        if time.monotonic() - self._loaded_at < self.refresh_seconds:
            return
        if self._loading is None:
            self._loading = asyncio.create_task(self._reload(), name="revocations-reload")
        await asyncio.shield(self._loading)

    async def _reload(self) -> None:
        try:
            await self.refresh()
        except Exception:
            log.exception("revocations.refresh_failed")
        finally:
            self._loaded_at = time.monotonic()
            self._loading = None
