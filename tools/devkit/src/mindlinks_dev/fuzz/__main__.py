"""``make fuzz``: the hostile-input suite, start to finish.

bandit over the code; then a fleet of its own (real processes, on its own
port offset), the cast made through the edge, and against it: the token and
webhook attack table, hostile bytes, the authorization matrix, the
company-role matrix and schemathesis once per role. The fleet is stopped, a summary printed (its
last line says pass or fail), and the fuzz block of docs/reliability.md
rewritten with the figures, the command and the seed.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx

from mindlinks_dev.catalog import public_routes
from mindlinks_dev.fuzz import attacks, company, hostile, matrix, schema_run
from mindlinks_dev.fuzz.cast import COMPANY_ROLES, ROLES, assemble
from mindlinks_dev.fuzz.fleet import running_fleet
from mindlinks_dev.fuzz.report import Part, Report, write_block
from mindlinks_dev.fuzz.stored import Tables
from mindlinks_dev.openapi import repo_root
from mindlinks_fleet import FLEET


def bandit(root: Path) -> Part:
    """bandit over services, libs and tools with the workspace's settings."""
    done = subprocess.run(  # noqa: S603 - the venv's own bandit, fixed arguments
        [
            str(Path(sys.executable).parent / "bandit"),
            *("-c", "pyproject.toml", "-q", "-r", "services", "libs", "tools"),
            *("-f", "custom", "--msg-template", "{relpath}:{line} {test_id} {msg}"),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    findings = [line for line in done.stdout.splitlines() if line.strip()]
    failures = findings if done.returncode else []
    if done.returncode and not findings:
        failures = [done.stderr.strip()[-500:] or f"bandit exited {done.returncode}"]
    files = sum(1 for _ in root.glob("*/*/src/**/*.py"))
    return Part(
        "bandit (services, libs, tools)", f"{files} files, {len(findings)} findings", failures
    )


def _attack_part(outcomes: list[attacks.Outcome]) -> Part:
    rows = [o for o in outcomes if not o.name.startswith(("stores nothing", "control"))]
    failures = [f"{o.name}: {f}" for o in outcomes for f in o.failures]
    sent = sum(o.sent for o in rows)
    return Part(
        "token and webhook attacks",
        f"{len(rows)} rows, {sent} requests, every table unchanged, genuine deliveries "
        "applied once and their replays acknowledged as duplicates",
        failures,
    )


def _hostile_part(findings: list[hostile.Finding]) -> Part:
    sent = sum(f.sent for f in findings)
    failures = [f"{f.name}: {x}" for f in findings for x in f.failures]
    return Part(
        "hostile bytes",
        f"{sent} requests: control/bidi/line-break characters in every body text field, "
        "path tricks in every object id, a 12 MB body, JSON 100 000 deep, uploads over the "
        "KYC limit, injection strings; every table unchanged",
        failures,
    )


def _matrix_part(verdict: matrix.Verdict, routes: int) -> Part:
    statuses = ", ".join(f"{s}x{n}" for s, n in sorted(verdict.statuses.items()))
    return Part(
        "authorization matrix",
        f"{routes} routes x {len(ROLES)} roles x own/other tenant's/unknown id = "
        f"{verdict.cells} cells, {verdict.sent} requests ({statuses})",
        verdict.failures,
    )


def _company_part(verdict: matrix.Verdict, routes: int) -> Part:
    statuses = ", ".join(f"{s}x{n}" for s, n in sorted(verdict.statuses.items()))
    return Part(
        "company-role matrix",
        f"{routes} routes acting for a company x {len(COMPANY_ROLES)} company roles x "
        f"own company/another company's object/another company = {verdict.cells} cells, "
        f"{verdict.sent} requests ({statuses})",
        verdict.failures,
    )


def _schema_part(run: schema_run.RoleRun, root: Path) -> Part:
    failures = [f"{title}: {', '.join(ops)}" for title, ops in run.failures.items()]
    failures += [f"schemathesis error: {e}" for e in run.errors]
    log = Path(run.log)
    shown = log.relative_to(root) if log.is_relative_to(root) else log
    return Part(
        f"schemathesis as {run.role}",
        f"{run.generated} generated cases in {run.seconds:.0f} s (log: {shown})",
        failures,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=None, help="default: a random one, printed")
    parser.add_argument("--port-offset", type=int, default=30000)
    parser.add_argument("--edge-port", type=int, default=38080)
    parser.add_argument("--run-dir", type=Path, default=None, help="default: .run/fuzz")
    parser.add_argument("--schema-seconds", type=int, default=90, help="schemathesis time per role")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite the fuzz block")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    root = repo_root(Path.cwd())
    run_dir = args.run_dir or root / ".run" / "fuzz"
    command = f"make fuzz FUZZ_SEED={seed}" + (
        f" FUZZ_SCHEMA_SECONDS={args.schema_seconds}" if args.schema_seconds != 90 else ""
    )
    started = datetime.now(UTC)
    report = Report(command, seed, started.strftime("%Y-%m-%d %H:%M UTC"))
    clock = time.monotonic()
    print(f"make fuzz: seed {seed}; fleet at offset {args.port_offset}", flush=True)
    report.parts.append(bandit(root))
    routes = public_routes(FLEET)
    with (
        running_fleet(args.port_offset, args.edge_port, run_dir) as fleet,
        httpx.Client(base_url=fleet.edge_url, timeout=60) as edge,
    ):
        print("fleet ready; making the cast", flush=True)
        cast = assemble(edge, run_dir)
        tables = Tables(fleet.state())
        # Hostile bytes first: the attack table's control approves the open
        # KYC session that the upload checks need.
        print("hostile bytes", flush=True)
        report.parts.append(_hostile_part(hostile.run(cast, tables, routes)))
        print("token and webhook attacks", flush=True)
        report.parts.append(_attack_part(attacks.run(cast, tables)))
        print("authorization matrix", flush=True)
        chosen = matrix.the_cells()
        checked = len({(c.route.method, c.route.path) for c in chosen})
        report.parts.append(_matrix_part(matrix.run(cast, chosen), checked))
        print("company-role matrix", flush=True)
        team_cells = company.the_cells()
        acting = len({(c.route.method, c.route.path) for c in team_cells})
        report.parts.append(_company_part(company.run(cast, team_cells), acting))
        for role in ROLES:  # the admin last: its run may suspend the cast
            print(f"schemathesis as {role} ({args.schema_seconds} s)", flush=True)
            run = schema_run.run_role(cast, role, run_dir, seed, args.schema_seconds)
            report.parts.append(_schema_part(run, root))
    report.seconds = time.monotonic() - clock
    print(report.summary(), flush=True)
    if not args.no_docs:
        write_block(root / "docs" / "reliability.md", report.block())
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
