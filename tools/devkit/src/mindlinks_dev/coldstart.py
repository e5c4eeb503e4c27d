"""How long ``mindlinks-local`` takes to get ready, and how much it then holds.

Starts the runner (``python -m mindlinks_dev.runner``) on a port offset of its
own, so a developer's ``make run`` may go on beside it; stamps each line it
prints with the seconds since the start, until "all parts ready"; lets the
fleet idle for ``--settle`` seconds; then reads, for the runner and every
process under it, the CPU it has used and its memory (RSS as ``ps`` shows it,
and PSS, which shares the pages several processes map between them); stops
the fleet with SIGINT as Ctrl-C does.

    python -m mindlinks_dev.coldstart               # one process for the fleet
    python -m mindlinks_dev.coldstart --processes   # one process per service
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mindlinks_dev.load.fleet import cpu_seconds

READY = "all parts ready"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Usage:
    pid: int
    name: str
    cpu_seconds: float
    rss: int
    """Bytes, as ``ps -o rss`` counts them."""
    pss: int
    """Bytes: each shared page divided among the processes that map it."""


def descendants(root: int) -> list[int]:
    """``root`` and every process under it."""
    found = [root]
    for pid in found:  # grows while it is read: the children's children too
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):  # a thread that has just ended
                found += [int(child) for child in (task / "children").read_text().split()]
    return found


def label(pid: int) -> str:
    """A short name for a process of a local run, from its command line."""
    words = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    command = " ".join(words)
    if "--factory" in words:
        target = words[words.index("--factory") + 1]
        package = target.split(".")[0]
        return "edge" if package == "mindlinks_dev" else package.removeprefix("mindlinks_")
    for module, name in (
        ("mindlinks_dev.motoserver", "aws (moto)"),
        ("mindlinks_dev.host", "fleet host"),
        ("mindlinks_dev.runner", "runner"),
    ):
        if module in command:
            return name
    return Path(words[0].split()[0]).name  # redis-server titles itself "<name> <address>"


def usage(pid: int) -> Usage:
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    kib = {m[1]: int(m[2]) for m in re.finditer(r"^(\w+):\s+(\d+) kB", rollup, re.M)}
    return Usage(
        pid=pid,
        name=label(pid),
        cpu_seconds=cpu_seconds(pid),
        rss=kib["Rss"] * 1024,
        pss=kib["Pss"] * 1024,
    )


def table(rows: Sequence[Usage]) -> str:
    lines = [f"{'process':<16} {'pid':>7} {'CPU s':>7} {'RSS MiB':>8} {'PSS MiB':>8}"]
    for row in sorted(rows, key=lambda r: -r.rss):
        lines.append(
            f"{row.name:<16} {row.pid:>7} {row.cpu_seconds:>7.1f} "
            f"{row.rss / MIB:>8.0f} {row.pss / MIB:>8.0f}"
        )
    lines.append(
        f"{'total':<16} {len(rows):>7} {sum(r.cpu_seconds for r in rows):>7.1f} "
        f"{sum(r.rss for r in rows) / MIB:>8.0f} {sum(r.pss for r in rows) / MIB:>8.0f}"
    )
    return "\n".join(lines)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mindlinks_dev.coldstart", description=__doc__)
    parser.add_argument("--processes", action="store_true", help="pass --processes to the runner")
    parser.add_argument("--port-offset", type=int, default=14000)
    parser.add_argument("--edge-port", type=int, default=18090)
    parser.add_argument("--settle", type=float, default=10.0, metavar="SECONDS")
    parser.add_argument("--timeout", type=float, default=180.0, metavar="SECONDS")
    parser.add_argument("--run-dir", type=Path, default=Path(".run/coldstart"))
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    command = [sys.executable, "-m", "mindlinks_dev.runner", "--port-offset", str(args.port_offset)]
    command += ["--edge-port", str(args.edge_port), "--run-dir", str(args.run_dir)]
    command += ["--processes"] if args.processes else []
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDLINKS_")}
    env.pop("REDIS_URL", None)
    load = os.getloadavg()[0]
    print(f"$ {' '.join(command[1:])}    (load average {load:.1f}, {os.cpu_count()} cores)")
    started = time.monotonic()
    runner = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True
    )
    assert runner.stdout is not None
    ready_after = None
    try:
        for line in runner.stdout:
            elapsed = time.monotonic() - started
            if line.strip() and not line.startswith(("part ", "aws ", "redis ")):
                print(f"{elapsed:6.1f}s  {line.rstrip()}", flush=True)
            if line.strip() == READY:
                ready_after = elapsed
                break
            if elapsed > args.timeout:
                break
        if ready_after is None:
            print("the fleet did not get ready")
            return 1
        at_ready = [usage(pid) for pid in descendants(runner.pid)]
        time.sleep(args.settle)
        idle = [usage(pid) for pid in descendants(runner.pid)]
    finally:
        runner.send_signal(signal.SIGINT)
        try:
            runner.wait(timeout=60)
        except subprocess.TimeoutExpired:
            runner.kill()
    mode = " --processes" if args.processes else ""
    print(f"\nready after {ready_after:.1f}s (runner{mode}); CPU used until then:")
    print(table(at_ready))
    print(f"\nafter {args.settle:.0f}s idle:")
    print(table(idle))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
