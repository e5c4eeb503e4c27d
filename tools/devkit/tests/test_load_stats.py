"""The load suite's arithmetic: nearest-rank percentiles, per-route
summaries, the judgement of a ramp step, the docs block and the fleet's AWS calls
without the probe's."""

from __future__ import annotations

import random
from collections import Counter

import httpx
import pytest

from mindlinks_dev.load.activation import PROBE_CALL, without_probe
from mindlinks_dev.load.driver import limited_problem
from mindlinks_dev.load.fleet import CpuSample
from mindlinks_dev.load.ramp import Step, judge
from mindlinks_dev.load.report import BEGIN, END, replace_block
from mindlinks_dev.load.stats import ERROR, LIMITED, OK, Recorder, percentile, summarize, table


def test_nearest_rank_percentiles() -> None:
    hundred = [float(v) for v in range(1, 101)]
    assert percentile(hundred, 50) == 50
    assert percentile(hundred, 99) == 99
    assert percentile(hundred, 99.5) == 100
    assert percentile(hundred, 100) == 100
    assert percentile(hundred, 0.1) == 1
    # Nearest rank never interpolates: always one of the samples.
    assert percentile([1.0, 2.0], 50) == 1.0
    assert percentile([1.0, 2.0], 51) == 2.0
    assert percentile([7.0], 99) == 7.0
    ten = [float(v) for v in range(10, 110, 10)]
    assert percentile(ten, 90) == 90
    assert percentile(ten, 91) == 100


def test_percentile_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 50)
    with pytest.raises(ValueError, match="percentile"):
        percentile([1.0], 0)
    with pytest.raises(ValueError, match="percentile"):
        percentile([1.0], 101)


def test_percentile_matches_a_sort_by_rank_on_random_samples() -> None:
    rng = random.Random(7)
    for _ in range(50):
        samples = sorted(rng.random() for _ in range(rng.randint(1, 300)))
        for p in (50, 90, 99):
            at_most = sum(1 for s in samples if s <= percentile(samples, p))
            assert at_most / len(samples) >= p / 100  # at least p % are at most it
            below = sum(1 for s in samples if s < percentile(samples, p))
            assert below / len(samples) < p / 100  # and it is the smallest such sample


def test_a_recorder_summarizes_each_route_and_the_whole_run() -> None:
    recorder = Recorder(started=10.0, ended=12.0)
    for ms in range(1, 101):
        recorder.add("GET /a", "200", OK, ms / 1000)
    recorder.add("GET /b", "429", LIMITED, 0.002)
    recorder.add("GET /b", "503", ERROR, 0.5)
    a, b = recorder.by_route()
    assert (a.route, a.count, a.per_second, a.p50_ms, a.p99_ms, a.max_ms) == (
        "GET /a",
        100,
        50.0,
        50.0,
        99.0,
        100.0,
    )
    assert (b.count, b.errors, b.limited, b.error_rate, b.statuses) == (
        2,
        1,
        1,
        0.5,
        {"429": 1, "503": 1},
    )
    total = recorder.total()
    assert (total.count, total.errors, total.limited) == (102, 1, 1)
    assert total.p99_ms == pytest.approx(100.0)  # rank 101 of 102: the 100 ms one
    assert total.max_ms == 500.0
    lines = table(recorder.by_route())
    assert lines[2].startswith("| `GET /a` | 100 | 50.0 | 50 | 99 | 100 | 0 (0.0%) | 0 |")
    assert summarize("none", [], 1.0).count == 0


def _step(level: float, recorder: Recorder) -> Step:
    return Step(level, recorder, CpuSample({}), 0.0)


def test_a_step_is_held_only_without_errors_within_budget_and_keeping_up() -> None:
    steady = Recorder(started=0.0, ended=10.0)
    for _ in range(100):
        steady.add("GET /a", "200", OK, 0.1)
    assert judge(_step(10, steady), "open", 1000) == []
    assert judge(_step(20, steady), "open", 1000) == ["served 10.0 req/s of 20 offered"]
    assert judge(_step(20, steady), "closed", 1000) == []
    assert judge(_step(10, steady), "open", 50) == ["p99 100 ms > 50 ms"]
    steady.add("GET /a", "504", ERROR, 0.1)
    steady.dropped = 3
    reasons = judge(_step(10, steady), "open", 1000)
    assert reasons[0].startswith("1 errors")
    assert reasons[1] == "3 arrivals dropped (too many in flight)"


def test_a_429_must_be_problem_json_with_retry_after() -> None:
    def answer(headers: dict[str, str]) -> httpx.Response:
        return httpx.Response(429, headers=headers)

    good = {"content-type": "application/problem+json", "retry-after": "2"}
    assert limited_problem(answer(good)) is None
    assert "content-type" in str(limited_problem(answer({**good, "content-type": "text/plain"})))
    assert "Retry-After" in str(limited_problem(answer({**good, "retry-after": "0"})))
    assert "Retry-After" in str(
        limited_problem(answer({"content-type": "application/problem+json"}))
    )


def test_only_the_load_block_is_rewritten() -> None:
    document = f"# Title\n\n{BEGIN}\nold\n{END}\n\n<!-- fuzz:begin -->\nkept\n<!-- fuzz:end -->\n"
    rewritten = replace_block(document, "## Load\n\nnew figures\n")
    assert rewritten == (
        f"# Title\n\n{BEGIN}\n## Load\n\nnew figures\n{END}\n\n"
        "<!-- fuzz:begin -->\nkept\n<!-- fuzz:end -->\n"
    )
    assert replace_block(rewritten, "again").count(BEGIN) == 1
    with pytest.raises(ValueError, match="no"):
        replace_block("# nothing here\n", "x")


def test_the_probes_reads_are_not_counted_as_the_fleets() -> None:
    outbox = "dynamodb:Query contract-outbox"
    counted = Counter({PROBE_CALL: 7, outbox: 3})
    assert without_probe(counted, 5) == Counter({PROBE_CALL: 2, outbox: 3})
    assert without_probe(counted, 7) == Counter({outbox: 3})
