"""The fleet a load run measures: started with ``mindlinks_dev.runner`` as
real processes (``--processes``: one per service, so CPU is sampled per
service; or, for the bench's start row, ``make run``'s default: one fleet
host), a second edge with ``make run``'s default limits in front of the same
services, and CPU samples of every part from ``/proc``."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis

from mindlinks_dev.local_plan import (
    EDGE_TARGET,
    edge_environment,
    uvicorn_command,
    without_settings,
)

READY_SECONDS = 150.0
ATTEMPTS = 6
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class FleetFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Fleet:
    runner_pid: int
    run_dir: Path
    edge: str
    """The runner's edge (started with ``--rate 0``: no per-address limit)."""
    state: Mapping[str, Any]
    port_offset: int
    ready_seconds: float = 0.0
    """From starting the runner to every part answering ready."""

    def processes(self) -> dict[str, int]:
        """Every part's pid: the edge and services (``state.json``), the
        embedded AWS and Redis (the runner's children), and this driver."""
        pids = {name: int(part["pid"]) for name, part in self.state["parts"].items()}
        for pid in _children(self.runner_pid):
            command = _cmdline(pid)
            if "mindlinks_dev.motoserver" in command:
                pids["aws (moto)"] = pid
            elif "redis-server" in command:
                pids["redis"] = pid
        pids["load driver"] = os.getpid()
        return pids

    def redis_commands(self) -> int:
        """Commands Redis has processed since it started."""
        with redis.Redis.from_url(self.state["redis"]["url"]) as client:
            info: dict[str, Any] = client.info("stats")
            return int(info["total_commands_processed"])


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int(_stat(int(entry.name))[1]) == parent:
                    found.append(int(entry.name))
    return found


def _stat(pid: int) -> list[str]:
    """``/proc/<pid>/stat`` fields after the command name (field 3 onwards)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 when it is gone)."""
    try:
        fields = _stat(pid)
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy() -> tuple[float, float]:
    """(busy CPU-seconds, all CPU-seconds) of the whole machine so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / CLOCK_TICKS, sum(values[:8]) / CLOCK_TICKS


@dataclass
class CpuSample:
    """CPU used per part between ``start()`` and ``stop()``, in cores
    (CPU-seconds per wall second)."""

    pids: Mapping[str, int]
    began: float = 0.0
    wall: float = 0.0
    before: dict[str, float] | None = None
    cores: dict[str, float] | None = None
    machine_cores: float = 0.0
    """The whole machine's busy cores (other engineers' runs included)."""

    def start(self) -> CpuSample:
        self.began = time.monotonic()
        self.before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self._machine = machine_busy()[0]
        return self

    def stop(self) -> CpuSample:
        assert self.before is not None, "start() first"
        self.wall = max(time.monotonic() - self.began, 1e-9)
        self.cores = {
            name: (cpu_seconds(pid) - self.before[name]) / self.wall
            for name, pid in self.pids.items()
        }
        self.machine_cores = (machine_busy()[0] - self._machine) / self.wall
        return self

    @property
    def fleet_cores(self) -> float:
        """Cores used by this run's own processes (the fleet and the driver)."""
        assert self.cores is not None, "stop() first"
        return sum(self.cores.values())

    def busiest(self, count: int = 4) -> list[tuple[str, float]]:
        assert self.cores is not None, "stop() first"
        return sorted(self.cores.items(), key=lambda kv: -kv[1])[:count]


def _environment() -> dict[str, str]:
    env = without_settings(os.environ)
    env.pop("REDIS_URL", None)
    # A few pairs sign thousands of contracts at the ramp's top: auth's
    # allowance of mailed step-up codes per user (a mail-bombing defence, proven
    # by auth's tests) would stop them, as the edge's limit would (``--rate 0``).
    env["MINDLINKS_STEP_UP_CHALLENGES_PER_WINDOW"] = "1000000"
    return env


@contextlib.contextmanager
def running_fleet(
    run_dir: Path, port_offset: int, edge_port: int, *, processes: bool = True
) -> Iterator[Fleet]:
    """The whole fleet (``python -m mindlinks_dev.runner --rate 0 --processes``;
    without ``processes``, in one fleet host as ``make run`` by default), ready;
    stopped with SIGINT afterwards like Ctrl-C stops ``make run``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    state_file = run_dir / "state.json"
    state_file.unlink(missing_ok=True)
    log = run_dir / "runner.log"
    env = _environment()
    command = [sys.executable, "-m", "mindlinks_dev.runner", "--port-offset", str(port_offset)]
    command += ["--edge-port", str(edge_port), "--run-dir", str(run_dir), "--rate", "0"]
    if processes:
        command += ["--processes"]  # CPU is sampled per service, as deployed
    began = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        state = _wait_ready(state_file, process, log)
        ready = time.monotonic() - began
        edge = f"http://127.0.0.1:{edge_port}"
        yield Fleet(process.pid, run_dir, edge, state, port_offset, ready)
    finally:
        _stop(process)


@contextlib.contextmanager
def fleet_with_retries(
    run_dir: Path,
    offset: int,
    edge_port: int,
    say: Callable[[str], None] = print,
    *,
    processes: bool = True,
) -> Iterator[Fleet]:
    """The fleet. When its ports sit in the kernel's ephemeral range, another
    connection may hold one for a while (also one of the fleet's own, made
    while it starts): wait and try again."""
    for attempt in range(ATTEMPTS):
        try:
            with running_fleet(run_dir, offset, edge_port, processes=processes) as fleet:
                yield fleet
                return
        except FleetFailed as exc:
            busy = "ports in use" in str(exc) or _bind_failed(run_dir)
            if not busy or attempt == ATTEMPTS - 1:
                raise
            say(f"a port was busy (attempt {attempt + 1}), retrying in 10 s")
            time.sleep(10)


def _bind_failed(run_dir: Path) -> bool:
    return any("address already in use" in log.read_text() for log in run_dir.glob("*.log"))


def _wait_ready(state_file: Path, process: subprocess.Popen[bytes], log: Path) -> dict[str, Any]:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise FleetFailed(f"the fleet exited early:\n{log.read_text()[-2000:]}")
        with contextlib.suppress(OSError, ValueError):
            state: dict[str, Any] = json.loads(state_file.read_text())
            if state["status"] == "ready":
                return state
            if state["status"] == "degraded":
                raise FleetFailed(f"the fleet is degraded:\n{log.read_text()[-2000:]}")
        time.sleep(0.1)
    raise FleetFailed(f"the fleet was not ready in {READY_SECONDS:.0f}s: see {log}")


def _stop(process: subprocess.Popen[bytes], grace: float = 60.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def limited_edge(fleet: Fleet, port: int, rate: float, burst: int) -> Iterator[tuple[str, int]]:
    """A second edge in front of the same services with ``rate``/``burst`` per
    client address: ``make run``'s defences, as configured. Yields its URL and pid."""
    env = edge_environment(
        _environment(),
        services=[name for name in fleet.state["parts"] if name != "edge"],
        cors_origins=None,
        rate=rate,
        burst=burst,
        public_url=fleet.state["edge"],
    ) | {"MINDLINKS_PORT_OFFSET": str(fleet.port_offset)}
    log = fleet.run_dir / "edge-limited.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            uvicorn_command(EDGE_TARGET, port),
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise FleetFailed(f"the limited edge did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield url, process.pid
    finally:
        _stop(process, grace=15)
