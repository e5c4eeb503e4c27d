"""The fleet ``make fuzz`` attacks: ``mindlinks-local --processes`` (one
process per service, as deployed) on its own port offset, with the edge's
rate limit off (this measures the fleet, not the edge's defence) and an
Onfido webhook configured, so both KYC webhooks can be attacked; stopped by
the suite itself."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mindlinks_dev.harness import installed_services
from mindlinks_dev.local_plan import without_settings
from mindlinks_fleet import FLEET

ONFIDO_WEBHOOK_TOKEN = "local-fuzz-onfido-webhook-token"  # noqa: S105 - local fleet only
ONFIDO_ENVIRONMENT = {
    "MINDLINKS_ONFIDO_API_TOKEN": "local-fuzz-onfido-api-token",
    "MINDLINKS_ONFIDO_WEBHOOK_TOKEN": ONFIDO_WEBHOOK_TOKEN,
    "MINDLINKS_ONFIDO_WORKFLOW_ID": "local-fuzz-workflow",
}
"""Onfido's webhook is served only when Onfido is configured; sessions are
still opened with the local provider (``MINDLINKS_KYC_PROVIDER`` stays veriff)."""
READY_SECONDS = 150.0
START_ATTEMPTS = 40
"""Ports at offset 30000 (33001-33011, 38080) sit in Linux's ephemeral range
(32768-60999): another fleet's outgoing connection may hold one for a while,
so starting is retried, 5 s apart, for up to a few minutes."""


class FleetFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class RunningFleet:
    edge_url: str
    run_dir: Path

    def state(self) -> dict[str, Any]:
        """``state.json``: the embedded AWS and Redis of this run."""
        state: dict[str, Any] = json.loads((self.run_dir / "state.json").read_text())
        return state


def fleet_environment(base: Mapping[str, str]) -> dict[str, str]:
    """The runner's environment: none of the caller's ``MINDLINKS_*`` settings
    or Redis, plus the Onfido configuration."""
    env = without_settings(base)
    env.pop("REDIS_URL", None)
    return {**env, **ONFIDO_ENVIRONMENT}


def _exited(run_dir: Path) -> bool:
    """A part the runner reports as exited (e.g. its port was taken)."""
    with contextlib.suppress(OSError, ValueError):
        state = json.loads((run_dir / "state.json").read_text())
        return any(str(p.get("status", "")).startswith("exited") for p in state["parts"].values())
    return False


def _ready(urls: list[str], process: subprocess.Popen[bytes], run_dir: Path) -> bool:
    deadline = time.monotonic() + READY_SECONDS
    pending = list(urls)
    while pending and time.monotonic() < deadline:
        if process.poll() is not None or _exited(run_dir):
            return False
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(pending[0], timeout=2).status_code == 200:
                pending.pop(0)
                continue
        time.sleep(0.2)
    return not pending


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def running_fleet(port_offset: int, edge_port: int, run_dir: Path) -> Iterator[RunningFleet]:
    """Start the fleet, wait until every part is ready, stop it on exit."""
    run_dir.mkdir(parents=True, exist_ok=True)
    log = run_dir / "runner.log"
    services = [s for s in FLEET.services if s.name in installed_services()]
    urls = [f"http://127.0.0.1:{edge_port}/health/live"] + [
        f"http://127.0.0.1:{s.port + port_offset}/health/ready" for s in services
    ]
    command = [
        sys.executable,
        "-m",
        "mindlinks_dev.runner",
        "--edge-port",
        str(edge_port),
        "--port-offset",
        str(port_offset),
        "--run-dir",
        str(run_dir),
        "--rate",
        "0",
        "--processes",  # the end-to-end suite kills a single service (test_chaos_smoke)
    ]
    for attempt in range(1, START_ATTEMPTS + 1):
        (run_dir / "state.json").unlink(missing_ok=True)  # a killed run's, read by _exited
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            env=fleet_environment(os.environ),
            start_new_session=True,
        )
        try:
            ready = _ready(urls, process, run_dir)
        except BaseException:  # Ctrl-C while waiting: stop what was started
            _stop(process)
            raise
        if ready:
            break
        _stop(process)
        if attempt == START_ATTEMPTS:
            raise FleetFailed(f"the fleet did not start:\n{log.read_text()[-3000:]}")
        time.sleep(5)
    try:
        yield RunningFleet(f"http://127.0.0.1:{edge_port}", run_dir)
    finally:
        _stop(process)
