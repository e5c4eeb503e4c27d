"""``Idempotency-Key`` for creating and money-moving POSTs.

Same key + same body = the same response, without doing the work twice; same
key + another body = 422. The key is claimed with a conditional put before the
work starts (a concurrent duplicate gets 409), and the stored response is
written in the same transaction as the work's own state and events, so a
crash can never leave work done without its record.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import StringConstraints
from pydantic.json_schema import SkipJsonSchema

from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import ConditionFailed, Table, UnitOfWork, values
from mindlinks_kit.errors import Conflict, Contention, InvalidInput

RETENTION_SECONDS = 24 * 3600
LEASE_SECONDS = 60
CONTENTION_ATTEMPTS = 3
"""Runs of an action whose commit lost a race with a sibling (``Contention``)."""
"""How long a claimed key blocks duplicates before a crashed attempt may be retried."""
IN_FLIGHT_RETRY_SECONDS = 5
"""The ``Retry-After`` of a duplicate that meets its first attempt at work:
most attempts finish in far less, a crashed one frees the key at its lease."""

KEY_PATTERN = r"^[!-~]+$"
KEY_DESCRIPTION = "Repeat a request safely: same key + same body = same response"
_Key = Annotated[str, StringConstraints(min_length=8, max_length=128, pattern=KEY_PATTERN)]

IdempotencyKey = Annotated[
    # Visible ASCII: a header value cannot carry what HTTP would trim or mangle.
    # Optional means absent, never null: a generated client must not send "null".
    _Key | SkipJsonSchema[None],
    Header(alias="Idempotency-Key", description=KEY_DESCRIPTION),
]
RequiredIdempotencyKey = Annotated[
    # Checked by ``Idempotency.run(required=True)``, so a missing key keeps its
    # own problem code; the OpenAPI states it required through ``REQUIRED_KEY``.
    _Key | SkipJsonSchema[None],
    Header(alias="Idempotency-Key", include_in_schema=False),
]
REQUIRED_KEY: dict[str, Any] = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": True,
            "description": KEY_DESCRIPTION,
            "schema": {"type": "string", "minLength": 8, "maxLength": 128, "pattern": KEY_PATTERN},
        }
    ]
}
"""``openapi_extra`` of a route that takes ``RequiredIdempotencyKey``."""
Action = Callable[[UnitOfWork], Awaitable[tuple[int, Any]]]


class KeyReused(InvalidInput):
    code = "idempotency-key-reused"
    title = "This Idempotency-Key was used with a different request"


class KeyInFlight(Conflict):
    """Retry after ``Retry-After`` seconds: by then the first attempt has
    finished (the retry gets its answer) or its lease is over (a crashed
    attempt no longer blocks the key)."""

    code = "idempotency-key-in-flight"
    title = "A request with this Idempotency-Key is still being processed"

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.headers["Retry-After"] = str(max(1, min(retry_after, LEASE_SECONDS)))


class KeyRequired(InvalidInput):
    code = "idempotency-key-required"
    title = "This request needs an Idempotency-Key header"


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class Idempotency:
    def __init__(self, table: Table, new_uow: Callable[[], UnitOfWork]) -> None:
        self.table = table
        self.new_uow = new_uow

    async def run(
        self,
        key: str | None,
        *,
        scope: str,
        request_fingerprint: str,
        action: Action,
        required: bool = False,
    ) -> JSONResponse:
        """Run ``action(uow)`` once per (scope, key); it returns (status, JSON body)
        and must not commit: the stored response commits with its writes."""
        if key is None:
            if required:
                raise KeyRequired()
            for attempt in range(1, CONTENTION_ATTEMPTS + 1):
                uow = self.new_uow()
                try:
                    status, body = await action(uow)
                    await uow.commit()
                except Contention:
                    if attempt == CONTENTION_ATTEMPTS:
                        raise
                    continue
                return JSONResponse(body, status_code=status)
        record_key = f"{scope}:{key}"
        replay = await self._claim(record_key, request_fingerprint)
        if replay is not None:
            return replay
        for attempt in range(1, CONTENTION_ATTEMPTS + 1):
            try:
                return await self._attempt(record_key, request_fingerprint, action)
            except Contention:
                if attempt == CONTENTION_ATTEMPTS:
                    await self._release(record_key)
                    raise
            except Exception:
                await self._release(record_key)
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(
        self, record_key: str, request_fingerprint: str, action: Action
    ) -> JSONResponse:
        """``action`` and the stored response, committed together."""
        uow = self.new_uow()
        status, body = await action(uow)
        uow.update(
            self.table,
            {"key": record_key},
            "SET #s = :done, responseStatus = :status, responseBody = :body, completedAt = :at",
            condition="#s = :pending AND fingerprint = :fp",
            names={"#s": "state"},
            values=values(
                done="done",
                status=status,
                body=json.dumps(body),
                at=now_iso(),
                pending="pending",
                fp=request_fingerprint,
            ),
        )
        await uow.commit()
        return JSONResponse(body, status_code=status, headers={"Idempotent-Replayed": "false"})

    async def _release(self, record_key: str) -> None:
        """Free a claimed key after a failed attempt, so the caller can retry at once."""
        await self.table.client.delete_item(
            TableName=self.table.name, Key={"key": {"S": record_key}}
        )

    async def _claim(self, record_key: str, request_fingerprint: str) -> JSONResponse | None:
        now = int(time.time())
        try:
            await self.table.put(
                {
                    "key": record_key,
                    "fingerprint": request_fingerprint,
                    "state": "pending",
                    "leaseUntil": now + LEASE_SECONDS,
                    "expiresAt": now + RETENTION_SECONDS,
                },
                condition="attribute_not_exists(#k) OR (#s = :pending AND leaseUntil < :now)",
                names={"#k": "key", "#s": "state"},
                values=values(pending="pending", now=now),
            )
        except ConditionFailed:
            existing = await self.table.get({"key": record_key})
            if existing is None:  # removed by a failed attempt just now
                return await self._claim(record_key, request_fingerprint)
            if existing["fingerprint"] != request_fingerprint:
                raise KeyReused() from None
            if existing["state"] != "done":
                lease_left = int(existing.get("leaseUntil", now + LEASE_SECONDS)) - now
                raise KeyInFlight(retry_after=min(lease_left, IN_FLIGHT_RETRY_SECONDS)) from None
            return JSONResponse(
                json.loads(existing["responseBody"]),
                status_code=int(existing["responseStatus"]),
                headers={"Idempotent-Replayed": "true"},
            )
        return None
