"""What a process costs before it serves anything: the CPU of importing a
service, the wall time for processes to start answering, and their memory.

Each figure comes with its floor from the same kind of process: Python with
uvicorn and a bare FastAPI app (``bare.create``), started the same way — one
uvicorn process per app (``--processes``, as deployed), or one fleet host
serving them all (``make run``'s default).
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from mindlinks_dev.embedded import free_port
from mindlinks_dev.local_plan import uvicorn_command
from mindlinks_dev.runner import installed

BARE_TARGET = "mindlinks_dev.bench.bare:create"
FLOOR_IMPORT = "fastapi, uvicorn, mindlinks_dev.bench.bare"
_IMPORT_CPU = (
    "import importlib, sys, time\n"
    "for name in sys.argv[1].split(', '):\n"
    "    importlib.import_module(name)\n"
    "print(time.process_time())\n"
)
_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+\d+ \|( *)(\S+)")


def module_of(target: str) -> str:
    """``mindlinks_user.app`` of an entry point's ``mindlinks_user.app:create``."""
    return target.split(":", 1)[0]


def import_cpu(modules: str) -> float:
    """CPU seconds a fresh interpreter spends importing ``modules``
    (comma-separated), its own start included."""
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", _IMPORT_CPU, modules],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return float(result.stdout.strip().splitlines()[-1])


def import_cpu_by_service(parallel: int = 2) -> dict[str, float]:
    """Every installed service's app module, each in a fresh interpreter."""
    targets = {name: module_of(target) for name, target in sorted(installed().items())}
    with ThreadPoolExecutor(parallel) as pool:
        return dict(zip(targets, pool.map(import_cpu, targets.values()), strict=True))


def by_package(importtime: str) -> dict[str, float]:
    """Seconds of ``python -X importtime`` output by top-level package (each
    module's own time, so nothing is counted twice)."""
    spent: dict[str, float] = {}
    for line in importtime.splitlines():
        found = _IMPORTTIME.match(line)
        if found:
            package = found.group(3).split(".", 1)[0]
            spent[package] = spent.get(package, 0.0) + int(found.group(1)) / 1e6
    return dict(sorted(spent.items(), key=lambda kv: -kv[1]))


def import_breakdown(module: str) -> dict[str, float]:
    """Where importing ``module`` spends its time, by top-level package,
    the largest first."""
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return by_package(result.stderr)


def rss_mib(pid: int) -> float | None:
    """Resident memory of a live process, in MiB (``None`` when it is gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


@dataclass(frozen=True)
class Started:
    """Processes started at once: the wall time until every one answered,
    and each one's resident memory once it did."""

    seconds: float
    rss: Sequence[float]


def start_bare(count: int, ready_timeout: float = 120.0, settle: float = 2.0) -> Started:
    """``count`` uvicorn processes of a bare FastAPI app started at once,
    each on its own loopback port, as the runner starts the services with
    ``--processes``; their wall time to all answering, then their memory
    ``settle`` seconds later."""
    ports = [free_port() for _ in range(count)]
    commands = [uvicorn_command(BARE_TARGET, port) for port in ports]
    return _started(commands, ports, ready_timeout, settle)


def start_bare_host(count: int, ready_timeout: float = 120.0, settle: float = 2.0) -> Started:
    """One fleet host (``mindlinks_dev.host``, as ``make run`` starts it by
    default) serving ``count`` bare apps, each on its own port; its wall time
    to all answering, then its memory ``settle`` seconds later."""
    ports = [free_port() for _ in range(count)]
    with tempfile.TemporaryDirectory(prefix="bench-host-") as logs:
        command = [sys.executable, "-m", "mindlinks_dev.host", "--log-dir", logs]
        for number, port in enumerate(ports):
            command += ["--serve", f"bare{number}", str(port), BARE_TARGET]
        return _started([command], ports, ready_timeout, settle)


def _started(
    commands: Sequence[Sequence[str]], ports: Sequence[int], ready_timeout: float, settle: float
) -> Started:
    began = time.monotonic()
    processes = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for command in commands
    ]
    try:
        _wait_answering([f"http://127.0.0.1:{port}/ping" for port in ports], ready_timeout)
        seconds = time.monotonic() - began
        time.sleep(settle)
        rss = [rss_mib(p.pid) for p in processes]
        return Started(seconds, [r for r in rss if r is not None])
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_answering(urls: Sequence[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(urls)
    with httpx.Client(timeout=1) as client:
        while waiting:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(waiting)} bare apps were not up in {timeout:.0f} s")
            with contextlib.suppress(httpx.HTTPError):
                if client.get(waiting[0]).status_code == 200:
                    waiting.pop(0)
                    continue
            time.sleep(0.05)


def resident(pids: Mapping[str, int]) -> dict[str, float]:
    """Resident MiB of each named live process."""
    return {name: rss for name, pid in pids.items() if (rss := rss_mib(pid)) is not None}
