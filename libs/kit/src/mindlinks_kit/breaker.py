"""A circuit breaker per peer: after ``fail_max`` failures in a row the peer
is not called for ``reset_timeout`` seconds; then one call is let through
("half-open") and its outcome closes or opens the circuit again.

Ours rather than a library's: pybreaker (used before) imports redis for its
Redis storage whenever redis is installed (a quarter of a second of every
service's import, for a storage we never used) and guards only sync calls, so
it needed a generator adapter here anyway; aiobreaker has not been released
since 2021; purgatory brings a message bus and an async factory lookup per
call. The whole state machine is the ~40 lines below, on one event loop, so
it needs no lock.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

T = TypeVar("T")
State = Literal["closed", "open", "half-open"]


class CircuitOpen(Exception):
    """The breaker is open: the call was not attempted."""


class AsyncBreaker:
    def __init__(
        self,
        name: str,
        fail_max: int,
        reset_timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.fail_max = fail_max
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.reset_timeout:
            return "half-open"
        return "open"

    def open(self) -> None:
        self._opened_at = self._clock()

    def close(self) -> None:
        self._failures = 0
        self._opened_at = None

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        state = self.state
        if state == "open":
            raise CircuitOpen(self.name)
        try:
            result = await fn()
        except Exception:
            self._failures += 1
            if state == "half-open" or self._failures >= self.fail_max:
                self.open()  # (again, when the trial call failed too)
            raise
        self.close()
        return result
