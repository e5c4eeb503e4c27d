"""Fleet-wide token revocation: a revoked subject's live access tokens stop
working on every service within seconds, not at expiry.

Each service consumes the fleet's revocation event on its own queue and
records ``subject → revokedAt`` in its derived ``revocations`` table. SQS gives
the event to one task of the service, so every task refreshes its in-memory
copy from that table every ``revocation_refresh_seconds``: a token is refused
when its subject was revoked at or after the token was issued. Records expire
once every token issued before them has (``revocation_retention_seconds``).
Checking a token costs a dictionary lookup; there is no per-request call.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

import structlog

from mindlinks_kit.dynamo import Table, UnitOfWork
from mindlinks_kit.events.envelope import Delivered

log = structlog.get_logger("mindlinks.revocations")


class Revocations:
    def __init__(self, table: Table, *, retention_seconds: int, refresh_seconds: float) -> None:
        self.table = table
        self.retention_seconds = retention_seconds
        self.refresh_seconds = refresh_seconds
        self._revoked_ms: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._revoked_ms)

    async def is_revoked(self, claims: dict[str, Any]) -> bool:
        revoked_ms = self._revoked_ms.get(str(claims.get("sub", "")))
        if revoked_ms is None:
            return False
        # ``iat`` has whole seconds: a token issued in the same second as the
        # revocation is refused too (the safe side).
        return int(claims.get("iat", 0)) * 1000 <= revoked_ms

    def note(self, subject: str, revoked_ms: int) -> None:
        if revoked_ms > self._revoked_ms.get(subject, -1):
            self._revoked_ms[subject] = revoked_ms

    async def handle(self, event: Delivered[Any], uow: UnitOfWork) -> None:
        """The consumer's handler for the revocation event."""
        subject = str(event.payload.user_id)
        revoked_ms = int(datetime.fromisoformat(event.detail.occurred_at).timestamp() * 1000)
        known = await self.table.get({"subject": subject})
        if known is not None and int(known["revokedAtMs"]) >= revoked_ms:
            self.note(subject, int(known["revokedAtMs"]))
            return  # a late, older revocation never replaces a newer one
        uow.put(
            self.table,
            {
                "subject": subject,
                "revokedAtMs": revoked_ms,
                "eventId": event.id,
                "expiresAt": revoked_ms // 1000 + self.retention_seconds,
            },
        )
        self.note(subject, revoked_ms)

    async def refresh(self) -> None:
        """Reload every live record (the table holds only the last hour's)."""
        now = time.time()
        fresh: dict[str, int] = {}
        start: dict[str, Any] | None = None
        while True:
            items, start = await self.table.scan(limit=500, start=start)
            for item in items:
                if int(item.get("expiresAt", 0)) > now:
                    fresh[str(item["subject"])] = int(item["revokedAtMs"])
            if start is None:
                break
        self._revoked_ms = fresh

    async def run(self) -> None:
        while True:
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("revocations.refresh_failed")
            await asyncio.sleep(self.refresh_seconds)
