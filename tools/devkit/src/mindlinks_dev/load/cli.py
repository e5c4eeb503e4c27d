"""``make load``: start a fleet, run both passes and the activation
measurement, stop the fleet, print the summary (its last line: pass or fail)
and rewrite the load block of ``docs/reliability.md``."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shlex
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mindlinks_dev.load import activation
from mindlinks_dev.load.defences import DefenceReport, defences
from mindlinks_dev.load.fleet import FleetFailed, fleet_with_retries, limited_edge
from mindlinks_dev.load.mix import Mix
from mindlinks_dev.load.parties import make_pairs
from mindlinks_dev.load.ramp import Step, ramp, saturation
from mindlinks_dev.load.report import Context, render, write_block
from mindlinks_dev.load.stats import ERROR
from mindlinks_dev.openapi import repo_root
from mindlinks_dev.runner import EDGE_BURST, EDGE_RATE

OVERLOAD_STATUSES = {"503", "504", "ReadTimeout", "ConnectTimeout", "PoolTimeout"}
"""What a saturated fleet may answer at the first step it does not hold; any
other error (a 500, an unexpected 4xx) is a defect and fails the run."""
DEFAULT_PORT_OFFSET = "24000"
"""Services on 27001-27011, edges on 32080/32081: under Linux's ephemeral
range (32768-60999), so no outgoing connection can take them as it starts."""


def say(message: str) -> None:
    print(message, flush=True)


def _levels(value: str) -> list[float]:
    return [float(v) for v in value.split(",") if v.strip()]


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mindlinks_dev.load", description=__doc__)
    offset = int(os.environ.get("LOAD_PORT_OFFSET", DEFAULT_PORT_OFFSET))
    parser.add_argument("--port-offset", type=int, default=offset)
    parser.add_argument("--edge-port", type=int, default=None, help="default: offset + 8080")
    parser.add_argument("--run-dir", type=Path, default=None, help="default: .run/load")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--pairs", type=int, default=6, help="client/contractor pairs")
    parser.add_argument("--defence-seconds", type=float, default=10.0)
    parser.add_argument("--model", choices=("open", "closed"), default="open")
    parser.add_argument(
        "--levels",
        type=_levels,
        default=_levels("2,5,10,15,20,30,40,60"),
        help="ramp steps: req/s (open) or users (closed)",
    )
    parser.add_argument("--step-seconds", type=float, default=15.0)
    parser.add_argument("--p99-budget-ms", type=float, default=1000.0)
    parser.add_argument("--lifecycles", type=int, default=10)
    parser.add_argument("--docs", type=Path, default=None, help="default: docs/reliability.md")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite the docs block")
    return parser.parse_args(argv)


def defects(steps: Sequence[Step]) -> list[str]:
    """Errors that overload does not explain, in any step."""
    found = []
    for step in steps:
        for stats in step.recorder.routes.values():
            wrong = {
                status: n
                for status, n in stats.statuses.items()
                if status not in OVERLOAD_STATUSES and not status.startswith(("2", "429"))
            }
            if wrong and stats.outcomes[ERROR]:
                found.append(f"{stats.route} at {step.level:.0f}: {wrong}")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    root = repo_root(Path.cwd())
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    edge_port = args.edge_port or args.port_offset + 8080
    run_dir = (args.run_dir or root / ".run" / "load").resolve()
    command = (
        "make load"
        if argv is None and not sys.argv[1:]
        else shlex.join(
            ["python", "-m", "mindlinks_dev.load", *(sys.argv[1:] if argv is None else argv)]
        )
    )
    context = Context(
        when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        command=command,
        seed=seed,
        cpus=os.cpu_count() or 1,
        load_average=" ".join(f"{v:.1f}" for v in os.getloadavg()),
        model=args.model,
        step_seconds=args.step_seconds,
        p99_budget_ms=args.p99_budget_ms,
    )
    say(f"load: seed {seed}, fleet at offset {args.port_offset}, edge :{edge_port}, {run_dir}")
    failures: list[str] = []
    defence: DefenceReport | None = None
    steps: list[Step] = []
    figures: dict[str, Any] | None = None
    try:
        with fleet_with_retries(run_dir, args.port_offset, edge_port, say) as fleet:
            say(f"fleet ready; making {args.pairs} client/contractor pairs …")
            mix = Mix(make_pairs(fleet.edge, args.pairs), random.Random(seed))  # noqa: S311 - a reproducible mix, not a secret
            say(f"pass 1: the defences as configured ({EDGE_RATE:.0f} req/s, burst {EDGE_BURST})")
            with limited_edge(fleet, edge_port + 1, EDGE_RATE, EDGE_BURST) as (edge, _):
                defence = asyncio.run(
                    defences(mix, edge, EDGE_RATE, EDGE_BURST, args.defence_seconds)
                )
            failures += [f"pass 1: {f}" for f in defence.failures]
            examples = {**defence.abuser.examples, **defence.polite.examples}
            failures += [f"pass 1 answered {k}: {v}" for k, v in examples.items()]
            say("pass 2: the defences raised, a stepped ramp")
            steps = asyncio.run(
                ramp(
                    mix,
                    fleet,
                    args.levels,
                    model=args.model,
                    seconds=args.step_seconds,
                    p99_budget_ms=args.p99_budget_ms,
                    say=say,
                )
            )
            found = defects(steps)
            failures += [f"pass 2: {d}" for d in found]
            if found:
                examples = {k: v for step in steps for k, v in step.recorder.examples.items()}
                failures += [f"pass 2 answered {k}: {v}" for k, v in examples.items()]
            say(
                "activation: one lifecycle alone (AWS calls recorded), then "
                f"{args.lifecycles} at once"
            )
            one = activation.alone(fleet)
            many = activation.together(fleet, args.lifecycles, say)
            figures = activation.summary(one, many)
            failures += [f"activation: {f}" for f in many.failures]
    except FleetFailed as exc:
        failures.append(f"fleet: {exc}")
    held = [step for step in steps if step.held]
    best = held[-1] if held else None
    if steps and best is None:
        failures.append("pass 2: not even the first step was held")
    verdict = (
        "load: PASS — the defences held, "
        + (f"{best.recorder.total().per_second:.1f} req/s held with zero errors" if best else "")
        if not failures
        else f"load: FAIL — {len(failures)} problem(s)"
    )
    block = render(
        context,
        verdict,
        defence,
        steps,
        best,
        saturation(steps, context.cpus) if steps else "not measured",
        figures,
        activation.explain(figures, context.cpus) if figures else [],
    )
    say("\n" + block)
    for failure in failures:
        say(f"  - {failure}")
    if not args.no_docs and defence is not None:
        write_block(args.docs or root / "docs" / "reliability.md", block)
        say(f"wrote the load block of {args.docs or 'docs/reliability.md'}")
    say(verdict)
    return 1 if failures else 0
