"""What a load run measured: every request's route, outcome and latency, and
the per-route summary (throughput, p50/p99, error rate).

Percentiles are nearest-rank over every sample (no interpolation, no
binning): the p-th percentile is the smallest sample such that at least p %
of the samples are at most it. A bounded run keeps at most a few tens of
thousands of floats, so exact beats a histogram here.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

OK, LIMITED, ERROR = "ok", "limited", "error"
"""A request's outcome: the status its step expects; 429 (a defence said
"slow down"); anything else — another status, a transport error, a timeout."""


def percentile(ordered: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile (0 < p ≤ 100) of ascending ``ordered``."""
    if not ordered:
        raise ValueError("no samples")
    if not 0 < p <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {p}")
    rank = math.ceil(p / 100 * len(ordered))
    return ordered[rank - 1]


@dataclass
class RouteStats:
    """One route's requests."""

    route: str
    latencies: list[float] = field(default_factory=list)
    """Seconds, of every request that got an answer or failed."""
    outcomes: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    """HTTP status (or the transport error's name) → count."""

    @property
    def count(self) -> int:
        return len(self.latencies)

    def add(self, status: str, outcome: str, seconds: float) -> None:
        self.latencies.append(seconds)
        self.outcomes[outcome] += 1
        self.statuses[status] += 1


@dataclass(frozen=True)
class Summary:
    """A route's (or a whole run's) figures."""

    route: str
    count: int
    per_second: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    limited: int
    statuses: dict[str, int]

    @property
    def error_rate(self) -> float:
        return self.errors / self.count if self.count else 0.0


def summarize(route: str, stats: Iterable[RouteStats], seconds: float) -> Summary:
    """The figures of ``stats`` (merged) over a run of ``seconds``."""
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    for one in stats:
        latencies += one.latencies
        outcomes += one.outcomes
        statuses += one.statuses
    latencies.sort()
    if not latencies:
        return Summary(route, 0, 0.0, 0.0, 0.0, 0.0, 0, 0, {})
    return Summary(
        route=route,
        count=len(latencies),
        per_second=len(latencies) / seconds if seconds > 0 else 0.0,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        max_ms=latencies[-1] * 1000,
        errors=outcomes[ERROR],
        limited=outcomes[LIMITED],
        statuses=dict(sorted(statuses.items())),
    )


@dataclass
class Recorder:
    """Every request of one run, by route (``METHOD /path/{template}``)."""

    routes: dict[str, RouteStats] = field(default_factory=dict)
    started: float = 0.0
    ended: float = 0.0
    dropped: int = 0
    """Open model: arrivals not sent because too many requests were in flight."""
    problems: list[str] = field(default_factory=list)
    """What a defence check found wrong (e.g. a 429 without ``Retry-After``)."""
    examples: dict[str, str] = field(default_factory=dict)
    """The first answer of each unexpected kind (route + status → body), for the report."""

    def add(self, route: str, status: str, outcome: str, seconds: float) -> None:
        self.routes.setdefault(route, RouteStats(route)).add(status, outcome, seconds)

    @property
    def seconds(self) -> float:
        return max(self.ended - self.started, 1e-9)

    def by_route(self) -> list[Summary]:
        return [
            summarize(route, [stats], self.seconds) for route, stats in sorted(self.routes.items())
        ]

    def total(self) -> Summary:
        return summarize("all", self.routes.values(), self.seconds)


def table(rows: Sequence[Summary]) -> list[str]:
    """A Markdown table of summaries (also readable on a terminal)."""
    lines = [
        "| route | requests | req/s | p50 ms | p99 ms | max ms | errors | 429 | statuses |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        statuses = " ".join(f"{code}x{n}" for code, n in row.statuses.items())
        lines.append(
            f"| `{row.route}` | {row.count} | {row.per_second:.1f} | {row.p50_ms:.0f} | "
            f"{row.p99_ms:.0f} | {row.max_ms:.0f} | {row.errors} ({row.error_rate:.1%}) | "
            f"{row.limited} | {statuses} |"
        )
    return lines
