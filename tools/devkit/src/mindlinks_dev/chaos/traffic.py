"""The traffic the chaos suite keeps up while it injects faults: complete
contract lifecycles (``make demo``'s story), each in a thread of its own,
through an HTTP client that retries as a dashboard does, and that records
every attempt so the report can tell what was retried and what hung."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from mindlinks_dev.demo import Story, StoryFailed

RETRIED = frozenset({429, 500, 502, 503, 504})
"""Answers a dashboard retries: throttled, or the fleet failed mid-request."""
RETRIED_CONFLICTS = frozenset({"idempotency-key-in-flight"})
"""409s that mean "not yet": the first attempt with this key is at work."""
LONGEST_PAUSE = 10.0
REQUEST_TIMEOUT = 35.0
"""Longer than the edge's own upstream timeout (29 s): a request that takes
this long hung somewhere."""


@dataclass
class Attempts:
    """Every request attempt of a run, across threads."""

    statuses: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    hung: list[str] = field(default_factory=list)
    slowest: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, request: httpx.Request, outcome: str, seconds: float) -> None:
        with self._lock:
            self.statuses[outcome] += 1
            self.slowest = max(self.slowest, seconds)
            if outcome == "timeout" or seconds >= REQUEST_TIMEOUT:
                self.hung.append(f"{request.method} {request.url.path} ({seconds:.1f}s)")

    def retried(self) -> None:
        with self._lock:
            self.retries += 1


class RetryingTransport(httpx.BaseTransport):
    """Retries connection failures and ``RETRIED`` answers with a growing
    pause, for up to ``budget`` seconds per request."""

    def __init__(self, attempts: Attempts, budget: float = 180.0) -> None:
        self.inner = httpx.HTTPTransport()
        self.attempts = attempts
        self.budget = budget
        self.retries = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + self.budget
        pause = 0.5
        while True:
            started = time.monotonic()
            try:
                response = self.inner.handle_request(request)
            except httpx.TimeoutException:
                self.attempts.record(request, "timeout", time.monotonic() - started)
                failure: httpx.Response | Exception | None = None
            except httpx.TransportError as exc:
                self.attempts.record(request, "connection", time.monotonic() - started)
                failure = exc
            else:
                response.read()
                self.attempts.record(request, str(response.status_code), time.monotonic() - started)
                if not _retried(response):
                    return response
                failure = response
                pause = max(pause, _retry_after(response))
            if time.monotonic() + pause > deadline:
                if isinstance(failure, httpx.Response):
                    return failure
                raise httpx.ConnectError(f"gave up after {self.budget:.0f}s", request=request)
            self.retries += 1
            self.attempts.retried()
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)

    def close(self) -> None:
        self.inner.close()


def _retried(response: httpx.Response) -> bool:
    if response.status_code in RETRIED:
        return True
    if response.status_code != 409:
        return False
    try:
        return response.json().get("code") in RETRIED_CONFLICTS
    except ValueError:
        return False


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(float(response.headers.get("retry-after", "0")), LONGEST_PAUSE)
    except ValueError:
        return 0.0


@dataclass
class Lifecycle:
    number: int
    ok: bool = False
    retries: int = 0
    seconds: float = 0.0
    error: str = ""
    facts: dict[str, Any] = field(default_factory=dict)


def run_lifecycles(
    edge_url: str,
    count: int,
    attempts: Attempts,
    *,
    patience: float = 240.0,
    stagger: float = 0.2,
    say: Callable[[str], None] = print,
) -> list[Lifecycle]:
    """``count`` complete lifecycles at once (started ``stagger`` seconds
    apart); returns how each went."""

    def one(number: int) -> Lifecycle:
        time.sleep(number * stagger)
        result = Lifecycle(number)
        transport = RetryingTransport(attempts)
        started = time.monotonic()
        with httpx.Client(base_url=edge_url, transport=transport, timeout=REQUEST_TIMEOUT) as api:
            story = Story(api, lambda _: None, patience=patience, poll=1.0)
            try:
                result.facts = story.run()
                result.ok = True
            except (StoryFailed, httpx.HTTPError, KeyError, TypeError) as exc:
                result.error = f"{type(exc).__name__}: {exc}"[:400]
        result.retries = transport.retries
        result.seconds = time.monotonic() - started
        outcome = "completed" if result.ok else f"FAILED ({result.error})"
        say(f"lifecycle {number:2d}: {outcome} in {result.seconds:.0f}s, {result.retries} retries")
        return result

    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="lifecycle") as pool:
        return list(pool.map(one, range(1, count + 1)))
