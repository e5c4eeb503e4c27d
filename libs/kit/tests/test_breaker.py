"""The breaker per peer: open after ``fail_max`` failures in a row, one trial
call after ``reset_timeout``, closed again by a success."""

from __future__ import annotations

import pytest

from mindlinks_kit.breaker import AsyncBreaker, CircuitOpen


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def ok() -> str:
    return "ok"


async def fail() -> str:
    raise ConnectionError("down")


async def test_failures_in_a_row_open_it_and_a_success_in_between_resets_the_count() -> None:
    breaker = AsyncBreaker("peer", fail_max=3, reset_timeout=30, clock=Clock())
    for _ in range(2):
        with pytest.raises(ConnectionError):
            await breaker.call(fail)
    assert await breaker.call(ok) == "ok"
    for _ in range(2):
        with pytest.raises(ConnectionError):
            await breaker.call(fail)
    assert breaker.state == "closed"
    with pytest.raises(ConnectionError):  # the call that trips it raises its own error
        await breaker.call(fail)
    assert breaker.state == "open"
    with pytest.raises(CircuitOpen):
        await breaker.call(ok)


async def test_after_the_timeout_one_trial_call_closes_or_reopens_it() -> None:
    clock = Clock()
    breaker = AsyncBreaker("peer", fail_max=1, reset_timeout=30, clock=clock)
    with pytest.raises(ConnectionError):
        await breaker.call(fail)
    clock.now += 29.9
    assert breaker.state == "open"
    clock.now += 0.1
    assert breaker.state == "half-open"
    with pytest.raises(ConnectionError):
        await breaker.call(fail)
    assert breaker.state == "open"  # the trial failed: another full timeout
    clock.now += 30
    assert await breaker.call(ok) == "ok"
    assert breaker.state == "closed"


async def test_an_operator_can_open_and_close_it() -> None:
    breaker = AsyncBreaker("peer", fail_max=5, reset_timeout=30, clock=Clock())
    breaker.open()
    with pytest.raises(CircuitOpen, match="peer"):
        await breaker.call(ok)
    breaker.close()
    assert await breaker.call(ok) == "ok"
