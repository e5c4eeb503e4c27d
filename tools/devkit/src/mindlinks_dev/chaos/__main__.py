"""``make chaos``: complete contract lifecycles through the edge while faults
hit the fleet in an order drawn from a printed seed, then the invariants.

    python -m mindlinks_dev.chaos [--lifecycles 50] [--seed N] [--write-docs]

Rerun a failure with its seed: the same faults, in the same order, on the
same victims (timing on a shared machine still varies).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from mindlinks_dev.chaos.faults import Fault, Injector
from mindlinks_dev.chaos.fleet import ChaosFleet, callee_services, chaos_fleet
from mindlinks_dev.chaos.invariants import Findings, check_all
from mindlinks_dev.chaos.report import Report, write_docs
from mindlinks_dev.chaos.traffic import Attempts, Lifecycle, run_lifecycles
from mindlinks_dev.openapi import repo_root
from mindlinks_dev.outside import bearer, create_admin, login, register_person

RANDOM_FAULTS = ("aws-down", "redis-down", "slow-peer", "redeliver-events", "webhooks")
CLOSING_FAULTS = ("redeliver-events", "webhooks")
"""Once more after the traffic, when every kind of event and webhook exists."""
SETTLE_SECONDS = 180.0


def plan(rng: random.Random, kills: int) -> list[str]:
    faults = ["kill"] * kills + list(RANDOM_FAULTS)
    rng.shuffle(faults)
    return faults


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--lifecycles", type=int, default=50)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--port-offset", type=int, default=10000)
    parser.add_argument("--edge-port", type=int, default=18080)
    parser.add_argument("--warm-up", type=float, default=20.0, metavar="SECONDS")
    parser.add_argument("--run-dir", type=Path, default=None)
    parser.add_argument(
        "--write-docs", action="store_true", help="rewrite docs/reliability.md's chaos section"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    root = repo_root(Path.cwd())
    run_dir = (args.run_dir or root / ".run" / "chaos").resolve()
    report = asyncio.run(_chaos(args, seed, run_dir))
    print(report.text(), flush=True)
    if args.write_docs:
        command = (
            "make chaos  # python -m mindlinks_dev.chaos "
            f"--lifecycles {args.lifecycles} --seed {seed}"
        )
        write_docs(root / "docs" / "reliability.md", report, command)
    return 0 if report.passed else 1


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


async def _chaos(args: argparse.Namespace, seed: int, run_dir: Path) -> Report:
    rng = random.Random(seed)  # noqa: S311 - a replayable fault order, not a secret
    victim = rng.choice(callee_services())
    faults = plan(rng, args.kills)
    say(f"seed {seed}: slow peer {victim}; faults in order: {', '.join(faults)}")
    report = Report(seed=seed, victim=victim, lifecycles_planned=args.lifecycles)
    started = time.monotonic()
    async with chaos_fleet(
        run_dir,
        victim=victim,
        port_offset=args.port_offset,
        edge_port=args.edge_port,
        say=say,
    ) as fleet:
        say(f"fleet ready in {time.monotonic() - started:.0f}s; run dir {run_dir}")
        edge = httpx.Client(base_url=fleet.edge_url, timeout=30)
        admin, canary = await asyncio.to_thread(_accounts, edge, run_dir)

        def canary_answers() -> bool:
            try:
                return edge.get("/v1/users/me", headers=canary).status_code == 200
            except httpx.HTTPError:
                return False

        injector = Injector(fleet, rng, canary_answers, say)
        attempts = Attempts()
        traffic = asyncio.create_task(
            asyncio.to_thread(run_lifecycles, fleet.edge_url, args.lifecycles, attempts, say=say)
        )
        await asyncio.sleep(args.warm_up)
        injected: list[Fault] = []
        for name in faults:
            injected.append(await injector.inject(name))
            await asyncio.sleep(rng.uniform(3.0, 8.0))
        lifecycles: list[Lifecycle] = await traffic
        for name in CLOSING_FAULTS:
            injected.append(await injector.inject(name))
        findings = await _settle(fleet, edge, admin)
        report.finish(injected, lifecycles, attempts, findings, fleet.restarts)
        report.seconds = time.monotonic() - started
    await asyncio.to_thread(edge.close)
    return report


def _accounts(edge: httpx.Client, run_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The admin who verifies the ledger, and the canary whose read shows the
    fleet answers again after a fault."""
    admin = create_admin(edge, run_dir)
    canary = register_person(edge, "client", name="Canary Reader")
    return admin.headers, bearer(login(edge, canary)["accessToken"])


async def _settle(fleet: ChaosFleet, edge: httpx.Client, admin: dict[str, str]) -> Findings:
    """The invariants, re-checked until they hold or ``SETTLE_SECONDS`` pass:
    events still in flight are not yet a breach."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        findings = await asyncio.to_thread(check_all, fleet.endpoints, edge, admin)
        if not findings.breaches or time.monotonic() > deadline:
            return findings
        say(f"settling: {len(findings.breaches)} open, e.g. {findings.breaches[0]}")
        await asyncio.sleep(5)


if __name__ == "__main__":
    sys.exit(main())
