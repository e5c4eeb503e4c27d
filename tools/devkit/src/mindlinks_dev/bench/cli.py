"""``make bench``: measure, print one table, write ``docs/performance.md``,
its figures (``docs/bench.json``) and ``docs/capacity.md``.

Measures in this order, each on a quiet fleet of its own: the in-process
request costs, the floor processes, ``make run``'s default fleet (one fleet
host: its start and memory), then the fleet of one process per service
(whose settle time also imports every service in fresh interpreters). About
eight minutes here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mindlinks_dev.bench import asgi, capacity, ci, outside, processes, report
from mindlinks_dev.bench.rows import summary_line, table
from mindlinks_dev.load.activation import summary
from mindlinks_dev.load.fleet import FleetFailed
from mindlinks_dev.openapi import repo_root
from mindlinks_dev.runner import installed
from mindlinks_fleet import FLEET

DEFAULT_PORT_OFFSET = 22000
"""Services on 25001-25011, the edge on 30080: beside ``make run`` (0), the
e2e suite (20000), ``make load`` (24000) and under the kernel's ephemeral range."""


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mindlinks_dev.bench", description=__doc__)
    offset = int(os.environ.get("BENCH_PORT_OFFSET", DEFAULT_PORT_OFFSET))
    parser.add_argument("--port-offset", type=int, default=offset)
    parser.add_argument("--run-dir", type=Path, default=None, help="default: .run/bench")
    parser.add_argument("--calls", type=int, default=300, help="calls a round, in-process")
    parser.add_argument("--logins", type=int, default=8, help="logins a round, in-process")
    parser.add_argument(
        "--settle", type=float, default=80.0, help="seconds after start before idle"
    )
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument(
        "--host-settle",
        type=float,
        default=20.0,
        help="seconds from the fleet host's ready to reading its idle memory",
    )
    parser.add_argument("--lifecycles", type=int, default=10)
    parser.add_argument("--docs", type=Path, default=None, help="default: docs/")
    parser.add_argument("--no-docs", action="store_true", help="print only")
    return parser.parse_args(argv)


def measure(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    """Every figure of a run, as plain JSON."""
    say("in-process request costs …")
    costs = asyncio.run(asgi.measure(args.calls, args.logins))
    parts = len(FLEET.services) + 1
    say(f"{parts} bare processes at once, then one host of {parts} bare apps (the floors) …")
    bare = processes.start_bare(parts)
    bare_host = processes.start_bare_host(parts)
    floor = processes.import_cpu(processes.FLOOR_IMPORT)

    run_dir = (args.run_dir or root / ".run" / "bench").resolve()
    say(f"`make run`'s default fleet (one fleet host) at offset {args.port_offset} …")
    host = outside.host_start(run_dir, args.port_offset, args.host_settle, say)
    say(f"the fleet of one process per service at offset {args.port_offset} ({run_dir}) …")
    plan = outside.Plan(args.port_offset, args.settle, args.idle_seconds, args.lifecycles)
    run = outside.measure(run_dir, plan, processes.import_cpu_by_service, say)
    slowest = max(run.meanwhile, key=run.meanwhile.__getitem__)
    say(f"where {slowest}'s import goes …")
    breakdown = processes.import_breakdown(processes.module_of(_target(slowest)))
    # The middle of the lifecycles alone: by activation for its time and the
    # calls between the last signature and active, by total for its calls.
    timed = outside.median_by(run.alone, lambda a: a.seconds)
    counted = outside.median_by(run.alone, lambda a: sum(a.calls_lifecycle.values()))
    figures = summary(timed, run.many)
    return {
        "costs": asdict(costs),
        "imports": run.meanwhile,
        "importFloor": floor,
        "importBreakdown": {k: round(v, 3) for k, v in list(breakdown.items())[:8]},
        "bare": {"seconds": bare.seconds, "rss": list(bare.rss)},
        "host": {
            "readySeconds": host.ready_seconds,
            "rss": host.rss,
            "awsRss": host.aws_rss,
            "cpuToReady": {k: round(v, 2) for k, v in host.cpu_to_ready.items()},
            "bare": {"seconds": bare_host.seconds, "rss": list(bare_host.rss)},
        },
        "fleet": {
            "readySeconds": run.ready_seconds,
            "rss": dict(run.rss),
            "idleSeconds": run.idle.seconds,
            "idleCallsPerSecond": run.idle.per_second,
            "idleCalls": dict(run.idle.calls),
            "idleCores": {k: round(v, 4) for k, v in run.idle_cores.items()},
            "alone": {
                "seconds": timed.seconds,
                "runs": [a.seconds for a in run.alone],
                "callCounts": [sum(a.calls_lifecycle.values()) for a in run.alone],
                "calls": dict(counted.calls_lifecycle),
                "activationCalls": dict(timed.calls_activation),
                "requests": counted.requests,
                "polls": counted.polls,
                "pollCalls": dict(counted.calls_polls),
                "probeIdleP50": figures["probeIdleP50"] or 0.0,
            },
            "edge": asdict(run.edge),
            "together": {
                key: figures[key]
                for key in (
                    "count",
                    "completed",
                    "p50",
                    "p99",
                    "min",
                    "max",
                    "wall",
                    "motoCpuSeconds",
                    "servicesCpuSeconds",
                    "machineCores",
                    "probeP50",
                    "failures",
                )
            }
            | {
                "cpuPerLifecycle": outside.cpu_per_lifecycle(run.many),
                "calls": dict(run.many.calls),
            },
        },
        "ci": asdict(ci.recorded(root)),
    }


def _load_average() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def _target(service: str) -> str:
    return installed()[service]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    root = repo_root(Path.cwd())
    command = (
        "make bench"
        if argv is None and not sys.argv[1:]
        else shlex.join(
            ["python", "-m", "mindlinks_dev.bench", *(sys.argv[1:] if argv is None else argv)]
        )
    )
    started = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command,
        "commit": ci.git("rev-parse", "--short", "HEAD", cwd=root) or "unknown",
        "machine": {
            "cpus": os.cpu_count() or 1,
            "loadAverage": _load_average(),
        },
    }
    try:
        figures = started | measure(args, root)
    except (FleetFailed, TimeoutError, AssertionError, OSError) as exc:
        say(f"bench: a measurement broke: {exc!r}")
        return 1
    figures["machine"]["loadAverageAtEnd"] = _load_average()
    rows = report.rows(figures, FLEET)
    figures["rows"] = [row.as_json() for row in rows]
    print("\n".join(table(rows)))
    print(summary_line(rows))
    if not args.no_docs:
        docs = args.docs or root / "docs"
        (docs / "bench.json").write_text(json.dumps(figures, indent=2) + "\n")
        (docs / "performance.md").write_text(report.document(figures, rows))
        (docs / "capacity.md").write_text(capacity.document(figures, FLEET))
        say(f"wrote {docs}/performance.md, bench.json and capacity.md")
    return 0
