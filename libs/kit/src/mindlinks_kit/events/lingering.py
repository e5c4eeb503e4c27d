"""Work gathered for a moment and done together: one AWS call for many.

The consumer deletes the messages it handled, and the relay marks what it
published, this way: each ``add`` waits at most ``linger`` seconds (or until
``size`` are waiting) to go out in one ``send`` with the others. What a
task's death leaves unsent is safe to redo (a message comes back and the
inbox finds it handled; an item stays pending and is published again).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger("mindlinks.lingering")


class Lingering:
    def __init__(
        self, send: Callable[[list[str]], Awaitable[None]], *, linger: float, size: int
    ) -> None:
        self.send = send
        """Does the work for up to ``size`` items in one call."""
        self.linger = linger
        self.size = size
        self._waiting: list[str] = []
        self._later: asyncio.Task[None] | None = None

    async def add(self, *items: str) -> None:
        """``items`` go out within ``linger`` seconds; at once when ``size`` wait."""
        self._waiting.extend(items)
        if len(self._waiting) >= self.size:
            await self.flush()
        elif self._waiting and (self._later is None or self._later.done()):
            self._later = asyncio.create_task(self._flush_later())

    async def flush(self) -> None:
        """Send everything waiting now, ``size`` at a time."""
        while self._waiting:
            batch, self._waiting = self._waiting[: self.size], self._waiting[self.size :]
            await self.send(batch)

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.linger)
        try:
            await self.flush()
        except Exception:
            log.exception("lingering.send_failed")  # redone, see the module's docstring
