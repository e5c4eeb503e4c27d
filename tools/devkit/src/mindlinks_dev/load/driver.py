"""The load driver: asyncio + httpx, bounded by time and by request count.

*Open* model: operations arrive at a fixed rate whatever the fleet does (what
many independent users do); a request's latency counts from its scheduled
arrival, so a driver or fleet that falls behind shows up in the latency
instead of quietly lowering the rate (no coordinated omission). *Closed*
model: ``concurrency`` workers each send the next request when the last one
answered (a fixed number of busy users).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import httpx

from mindlinks_dev.load.stats import ERROR, LIMITED, OK, Recorder

Operation = Callable[[float], Coroutine[Any, Any, None]]
"""One unit of load, given its arrival time (``time.perf_counter()``)."""
PROBLEM_JSON = "application/problem+json"
REQUEST_TIMEOUT = 15.0


def limited_problem(response: httpx.Response) -> str | None:
    """What is wrong with a 429, if anything: it must be problem+json with a
    ``Retry-After`` of whole seconds ≥ 1."""
    kind = response.headers.get("content-type", "")
    if not kind.startswith(PROBLEM_JSON):
        return f"429 with content-type {kind!r}"
    retry = response.headers.get("retry-after", "")
    if not retry.isdigit() or int(retry) < 1:
        return f"429 with Retry-After {retry!r}"
    return None


@dataclass
class Caller:
    """Sends one operation's request and records it under its route."""

    client: httpx.AsyncClient
    recorder: Recorder
    arrival: float

    async def __call__(
        self, method: str, route: str, url: str, *, expect: tuple[int, ...], **kwargs: Any
    ) -> httpx.Response | None:
        """The response when its status is one of ``expect``; else None (the
        request is recorded as limited or as an error)."""
        try:
            response = await self.client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            self.recorder.add(route, type(exc).__name__, ERROR, time.perf_counter() - self.arrival)
            return None
        seconds = time.perf_counter() - self.arrival
        status = response.status_code
        if status in expect:
            self.recorder.add(route, str(status), OK, seconds)
            return response
        outcome = LIMITED if status == 429 else ERROR
        self.recorder.add(route, str(status), outcome, seconds)
        if status == 429:
            wrong = limited_problem(response)
            if wrong and len(self.recorder.problems) < 20:
                self.recorder.problems.append(f"{route}: {wrong}")
        else:
            self.recorder.examples.setdefault(f"{route} {status}", response.text[:300])
        return None


def client(base_url: str, source: str | None = None) -> httpx.AsyncClient:
    """A client of the edge, sending from loopback address ``source`` (the
    edge limits per client address; loopback is a whole /8)."""
    transport = httpx.AsyncHTTPTransport(
        local_address=source, limits=httpx.Limits(max_connections=200)
    )
    return httpx.AsyncClient(base_url=base_url, transport=transport, timeout=REQUEST_TIMEOUT)


async def open_model(
    operation: Operation,
    recorder: Recorder,
    *,
    rate: float,
    seconds: float,
    max_requests: int | None = None,
    max_in_flight: int = 400,
) -> None:
    """Start ``operation`` ``rate`` times a second for ``seconds`` (or until
    ``max_requests`` started), then wait for the stragglers. An arrival that
    finds ``max_in_flight`` operations still running is dropped and counted."""
    if rate <= 0:
        raise ValueError("rate must be positive")
    arrivals = int(rate * seconds)
    if max_requests is not None:
        arrivals = min(arrivals, max_requests)
    running: set[asyncio.Task[None]] = set()
    recorder.started = start = time.perf_counter()
    for n in range(arrivals):
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(running) >= max_in_flight:
            recorder.dropped += 1
            continue
        task = asyncio.create_task(operation(due))
        running.add(task)
        task.add_done_callback(running.discard)
    if running:
        await asyncio.wait(running, timeout=REQUEST_TIMEOUT * 2)
    recorder.ended = time.perf_counter()


async def closed_model(
    operation: Operation,
    recorder: Recorder,
    *,
    concurrency: int,
    seconds: float,
    max_requests: int | None = None,
) -> None:
    """``concurrency`` workers run ``operation`` back to back for ``seconds``
    (or until ``max_requests`` started in all)."""
    recorder.started = time.perf_counter()
    deadline = recorder.started + seconds
    budget = [max_requests if max_requests is not None else -1]

    async def worker() -> None:
        while time.perf_counter() < deadline and budget[0] != 0:
            budget[0] -= 1
            await operation(time.perf_counter())

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    recorder.ended = time.perf_counter()
