"""``make profile``: where the CPU goes, sampled with py-spy from outside.

A fleet of its own (the load tool's: one process per service, at a port
offset), warmed by one lifecycle; then two profiles, each a py-spy
recording of every process concerned, summarised:

- the hottest route, ``GET /v1/users/me`` through the edge, many times over
  (the edge and the user service);
- the lifecycle under concurrency, several whole lifecycles at once (the
  embedded AWS and every service).

Each process's samples are summarised by package (the innermost frame that
is not the standard library's) and by function (where the samples were
taken), and written between the markers of ``docs/profiles.md``; the prose
around them, what changed and why, is kept.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from mindlinks_dev.bench.ci import git
from mindlinks_dev.bench.outside import cpu_per_lifecycle
from mindlinks_dev.load import activation
from mindlinks_dev.load.fleet import Fleet, fleet_with_retries
from mindlinks_dev.load.stats import percentile
from mindlinks_dev.openapi import repo_root

BEGIN, END = "<!-- profile:begin -->", "<!-- profile:end -->"
RATE = 100
"""Samples a second per process."""


@dataclass(frozen=True)
class Summary:
    """One process's samples: how many, by package and by function."""

    samples: int
    packages: list[tuple[str, int]]
    functions: list[tuple[str, int]]


def package_of(frame: str) -> str:
    """``fastapi`` for ``run (fastapi/routing.py:300)`` (py-spy names a file
    by its path under ``sys.path`` where it can), ``mindlinks_kit`` for our
    own source; ``stdlib`` for the standard library and frames without a file."""
    path = frame[frame.rfind("(") + 1 : frame.rfind(")")].split(":")[0]
    for marker in ("site-packages/", "/src/"):
        if marker in path:
            return path.split(marker, 1)[1].split("/", 1)[0]
    if not path or path.startswith(("/", "<")):
        return "stdlib"
    top = path.split("/", 1)[0].removesuffix(".py")
    return "stdlib" if top in sys.stdlib_module_names else top


def stacks(raw: str) -> Iterator[tuple[list[str], int]]:
    """Each stack of py-spy's ``--format raw`` (one ``a;b;c count`` per line),
    outermost frame first, without py-spy's process and thread frames."""
    for line in raw.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if frames:
            yield frames, int(count)


def summarise(raw: str, top: int = 8) -> Summary:
    """A summary of py-spy's ``--format raw``: by package and by function."""
    packages: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    samples = 0
    for frames, n in stacks(raw):
        samples += n
        own = [p for p in map(package_of, frames) if p != "stdlib"]
        packages[own[-1] if own else "stdlib"] += n
        functions[frames[-1].split(" (")[0] + " (" + package_of(frames[-1]) + ")"] += n
    return Summary(samples, packages.most_common(top), functions.most_common(top))


@contextlib.contextmanager
def recording(pids: Mapping[str, int], out: Path) -> Iterator[dict[str, Path]]:
    """py-spy recording each process while the block runs (stopped with SIGINT,
    which makes it write its file)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out.mkdir(parents=True, exist_ok=True)
    files = {name: out / f"{name.split()[0]}.txt" for name in pids}
    # --gil: only the thread holding the interpreter, so a sample is CPU spent
    # in Python (or in C it called), never a thread waiting for I/O or a lock
    command = [spy, "record", "--gil", "--nonblocking", "-r", str(RATE), "-f", "raw"]
    spies = [
        subprocess.Popen(  # noqa: S603 - py-spy from our own environment
            [*command, "-p", str(pid), "-o", str(files[name])],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in pids.items()
    ]
    try:
        threading.Event().wait(1.0)  # py-spy attaches
        yield files
    finally:
        for spy_process in spies:
            spy_process.send_signal(signal.SIGINT)
        for spy_process in spies:
            spy_process.wait(timeout=60)


def _read(files: Mapping[str, Path]) -> dict[str, Summary]:
    return {n: summarise(f.read_text()) for n, f in files.items() if f.exists()}


def hottest_route(
    fleet: Fleet, headers: Mapping[str, str], out: Path, n: int
) -> dict[str, Summary]:
    pids = fleet.processes()
    with (
        recording({k: pids[k] for k in ("edge", "user")}, out) as files,
        httpx.Client(base_url=fleet.edge, timeout=30) as api,
    ):
        for _ in range(n):
            api.get("/v1/users/me", headers=headers).raise_for_status()
    return _read(files)


def under_concurrency(
    fleet: Fleet, out: Path, lifecycles: int
) -> tuple[dict[str, Summary], activation.Together]:
    pids = {k: v for k, v in fleet.processes().items() if k not in ("redis", "load driver")}
    with recording(pids, out) as files:
        together = activation.together(fleet, lifecycles, lambda _: None)
    return _read(files), together


def _share(n: int, total: int) -> str:
    return f"{100 * n / max(total, 1):.0f} %"


def section(title: str, summaries: Mapping[str, Summary]) -> list[str]:
    lines = [f"### {title}", ""]
    ordered = sorted(summaries.items(), key=lambda kv: -kv[1].samples)
    lines += ["| process | CPU samples | by package | by function (where the sample was taken) |"]
    lines += ["|---|---:|---|---|"]
    for name, s in ordered:
        packages = ", ".join(f"{p} {_share(c, s.samples)}" for p, c in s.packages[:5])
        functions = ", ".join(f"`{f}` {_share(c, s.samples)}" for f, c in s.functions[:4])
        lines.append(f"| {name} | {s.samples} | {packages} | {functions} |")
    return [*lines, ""]


def outcome(together: activation.Together) -> list[str]:
    """The lifecycles' own figures: how long activation took, CPU by process."""
    done = sorted(together.activations)
    if not done:
        return ["No lifecycle completed: " + "; ".join(together.failures[:3]), ""]
    p50 = percentile(done, 50)
    cpu = cpu_per_lifecycle(together)
    busiest = sorted(cpu.items(), key=lambda kv: -kv[1])[:6]
    return [
        f"{len(done)} of {together.count} completed in {together.wall:.0f} s; activation "
        f"p50 {p50:.1f} s, slowest {done[-1]:.1f} s. CPU seconds per lifecycle: "
        + ", ".join(f"{name} {seconds:.2f}" for name, seconds in busiest)
        + ".",
        "",
    ]


def generated(
    root: Path,
    route: Mapping[str, Summary],
    lifecycle: Mapping[str, Summary],
    together: activation.Together,
    n: int,
) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    commit = git("rev-parse", "--short", "HEAD", cwd=root) or "unknown"
    head = [
        f"Generated by `make profile` on {when} at commit {commit}, on "
        f"{os.cpu_count()} cores (load average {' '.join(f'{v:.1f}' for v in os.getloadavg())} "
        f"at the end). py-spy took {RATE} samples a second of each process's thread "
        "holding the interpreter: a sample is CPU spent, waiting is not sampled.",
        "",
    ]
    body = section(f"`GET /v1/users/me` through the edge, {n} times", route)
    body += section(f"{together.count} whole lifecycles at once", lifecycle)
    return "\n".join(head + body + outcome(together))


def write(doc: Path, text: str) -> None:
    old = doc.read_text() if doc.exists() else f"# Profiles\n\n{BEGIN}\n{END}\n"
    before, _, rest = old.partition(BEGIN)
    _, _, after = rest.partition(END)
    doc.write_text(f"{before}{BEGIN}\n{text}\n{END}{after}")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mindlinks_dev.bench.profile", description=__doc__
    )
    parser.add_argument("--port-offset", type=int, default=8000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--lifecycles", type=int, default=10)
    parser.add_argument("--no-docs", action="store_true", help="print only")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    root = repo_root(Path.cwd())
    out = root / ".run" / "profile"
    out.mkdir(parents=True, exist_ok=True)
    edge_port = args.port_offset + 8080
    with fleet_with_retries(out / "fleet", args.port_offset, edge_port) as fleet:
        warm = activation.lifecycle_alone(fleet, activation.idle(fleet, 1.0))
        assert warm.client is not None
        route = hottest_route(fleet, warm.client.auth, out / "route", args.requests)
        lifecycle, together = under_concurrency(fleet, out / "lifecycle", args.lifecycles)
    text = generated(root, route, lifecycle, together, args.requests)
    print(text)
    if not args.no_docs:
        write(root / "docs" / "profiles.md", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
