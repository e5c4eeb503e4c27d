"""Count one lifecycle's AWS calls, quickly: the bench's "AWS calls per
complete lifecycle" row without the rest of ``make bench`` (about a minute
and a half instead of eight).

    python -m mindlinks_dev.bench.calls [--lifecycles 3] [--save F] [--compare F]

Starts the load tool's fleet at the bench's port offset, lets it settle,
runs the demo's whole story alone ``--lifecycles`` times (exactly as the
bench does, ``activation.lifecycle_alone``) and prints each run's total, the
median run's calls by kind, and the share of the driver's own polls. With
``--compare`` it prints the change by kind against a saved run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from mindlinks_dev.bench.cli import DEFAULT_PORT_OFFSET
from mindlinks_dev.bench.outside import median_by
from mindlinks_dev.load import activation
from mindlinks_dev.load.fleet import fleet_with_retries
from mindlinks_dev.openapi import repo_root


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mindlinks_dev.bench.calls", description=__doc__
    )
    offset = int(os.environ.get("BENCH_PORT_OFFSET", DEFAULT_PORT_OFFSET))
    parser.add_argument("--port-offset", type=int, default=offset)
    parser.add_argument("--run-dir", type=Path, default=None, help="default: .run/bench-calls")
    parser.add_argument("--lifecycles", type=int, default=3)
    parser.add_argument(
        "--settle", type=float, default=20.0, help="seconds after ready before counting"
    )
    parser.add_argument("--save", type=Path, default=None, help="write the median run as JSON")
    parser.add_argument("--compare", type=Path, default=None, help="a run saved with --save")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    root = repo_root(Path.cwd())
    run_dir = (args.run_dir or root / ".run" / "bench-calls").resolve()
    edge_port = args.port_offset + 8080
    with fleet_with_retries(run_dir, args.port_offset, edge_port, say) as fleet:
        say(f"fleet ready in {fleet.ready_seconds:.1f} s; settling {args.settle:.0f} s …")
        time.sleep(args.settle)
        quiet = activation.idle(fleet, 5.0)
        runs = []
        for n in range(args.lifecycles):
            run = activation.lifecycle_alone(fleet, quiet)
            runs.append(run)
            say(
                f"lifecycle {n + 1}: {sum(run.calls_lifecycle.values())} calls "
                f"(driver's polls {sum(run.calls_polls.values())}), "
                f"activation {run.seconds:.2f} s"
            )
    counted = median_by(runs, lambda a: sum(a.calls_lifecycle.values()))
    timed = median_by(runs, lambda a: a.seconds)
    total = sum(counted.calls_lifecycle.values())
    polls = sum(counted.calls_polls.values())
    print(f"runs: {[sum(r.calls_lifecycle.values()) for r in runs]}")
    print(
        f"median lifecycle: {total} AWS calls; of them the driver's polls ≈ {polls} "
        f"({counted.polls} poll requests), the fleet's own ≈ {total - polls}"
    )
    print(
        f"activation: median of {len(runs)} alone {timed.seconds:.2f} s, "
        f"{sum(timed.calls_activation.values())} calls between the last signature and active"
    )
    for kind, n in counted.calls_lifecycle.most_common():
        print(f"  {n:4d}  {kind}  (polls {counted.calls_polls.get(kind, 0)})")
    if args.compare:
        before = Counter(json.loads(args.compare.read_text())["calls"])
        print(f"against {args.compare}: {sum(before.values())} → {total}")
        for kind in sorted(set(before) | set(counted.calls_lifecycle)):
            delta = counted.calls_lifecycle.get(kind, 0) - before.get(kind, 0)
            if delta:
                print(f"  {delta:+4d}  {kind}")
    if args.save:
        saved = {
            "runs": [sum(r.calls_lifecycle.values()) for r in runs],
            "calls": dict(counted.calls_lifecycle),
            "polls": dict(counted.calls_polls),
            "activationSeconds": [r.seconds for r in runs],
        }
        args.save.write_text(json.dumps(saved, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
