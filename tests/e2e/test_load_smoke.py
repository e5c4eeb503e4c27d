"""A short smoke of ``make load`` against the end-to-end fleet: the driver's
accounting for real — every arrival answered and counted once, per route and
in all, percentiles taken from the recorded latencies — and a second edge
with a small per-address limit in front of the same services, whose 429s the
driver must count as limited (problem+json with ``Retry-After``), not as
errors, and whose bucket must let through no more than it holds."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import httpx

from mindlinks_dev.embedded import free_port
from mindlinks_dev.load.driver import client, closed_model, open_model
from mindlinks_dev.load.fleet import Fleet, limited_edge
from mindlinks_dev.load.mix import Mix
from mindlinks_dev.load.parties import make_pairs
from mindlinks_dev.load.stats import ERROR, LIMITED, OK, Recorder, percentile


def _fleet(edge: httpx.Client, run_dir: Path, port_offset: int) -> Fleet:
    state = json.loads((run_dir / "state.json").read_text())
    return Fleet(state["pid"], run_dir, str(edge.base_url).rstrip("/"), state, port_offset)


def _check_accounting(recorder: Recorder, sent: int) -> None:
    total = recorder.total()
    assert total.count == sent - recorder.dropped
    assert sum(s.count for s in recorder.by_route()) == total.count
    for stats in recorder.routes.values():
        assert sum(stats.outcomes.values()) == sum(stats.statuses.values()) == stats.count
    everything = sorted(s for stats in recorder.routes.values() for s in stats.latencies)
    assert total.p50_ms == percentile(everything, 50) * 1000
    assert total.p99_ms == percentile(everything, 99) * 1000
    assert 0 < total.p50_ms <= total.p99_ms <= total.max_ms


def test_the_load_driver_counts_every_request_and_every_429(
    edge: httpx.Client, fleet_run_dir: Path, port_offset: int
) -> None:
    fleet = _fleet(edge, fleet_run_dir, port_offset)
    mix = Mix(make_pairs(fleet.edge, 2, parallel=2), random.Random(1))

    async def unlimited() -> tuple[Recorder, Recorder]:
        opened, closed = Recorder(), Recorder()
        async with client(fleet.edge) as api:
            await open_model(mix.operation(api, opened), opened, rate=8, seconds=3)
            await closed_model(
                mix.operation(api, closed), closed, concurrency=2, seconds=10, max_requests=12
            )
        return opened, closed

    opened, closed = asyncio.run(unlimited())
    _check_accounting(opened, 24)
    _check_accounting(closed, 12)
    for recorder in (opened, closed):
        assert recorder.total().errors == 0, (recorder.total().statuses, recorder.examples)
        assert recorder.total().limited == 0
    assert mix.progress["created"] >= 1  # the mix wrote, not only read

    rate, burst = 4.0, 4
    with limited_edge(fleet, free_port(), rate, burst) as (limited, _):

        async def over_the_limit() -> Recorder:
            recorder = Recorder()
            async with client(limited, "127.0.0.7") as api:
                await open_model(mix.operation(api, recorder), recorder, rate=20, seconds=2)
            return recorder

        recorder = asyncio.run(over_the_limit())
    _check_accounting(recorder, 40)
    total = recorder.total()
    served = total.count - total.limited
    assert total.errors == 0, (total.statuses, recorder.examples)
    assert recorder.problems == []  # every 429 was problem+json with Retry-After
    assert total.limited == total.statuses["429"] > 0
    assert burst <= served <= burst + rate * recorder.seconds + 1
    assert all(
        stats.outcomes[LIMITED] == stats.statuses.get("429", 0)
        and stats.outcomes[OK] + stats.outcomes[LIMITED] == stats.count
        and stats.outcomes[ERROR] == 0
        for stats in recorder.routes.values()
    )
