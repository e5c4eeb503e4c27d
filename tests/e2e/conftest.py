"""The end-to-end suite: the fleet as real processes (``mindlinks-local``),
driven only through the public edge, as a dashboard would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mindlinks_dev.embedded import free_port
from mindlinks_dev.fuzz.fleet import fleet_environment
from mindlinks_dev.harness import installed_services
from mindlinks_fleet import FLEET

# Beside a developer's `make run` on the declared ports; E2E_PORT_OFFSET lets
# two checkouts run the suite at once.
PORT_OFFSET = int(os.environ.get("E2E_PORT_OFFSET", "20000"))
READY_SECONDS = 120


def _wait_ready(urls: list[str], process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    pending = list(urls)
    while pending and time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the fleet exited early:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(pending[0], timeout=2).status_code == 200:
                pending.pop(0)
                continue
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    if pending:
        pytest.fail(f"not ready: {pending}\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def fleet_run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fleet's ``--run-dir``: its logs, its mailbox and, while it runs,
    ``state.json`` (the embedded AWS and Redis an operator's tools point at)."""
    return tmp_path_factory.mktemp("fleet")


@pytest.fixture(scope="session")
def edge(fleet_run_dir: Path) -> Iterator[httpx.Client]:
    run_dir = fleet_run_dir
    edge_port = free_port()
    log = run_dir / "runner.log"
    # None of this process's MINDLINKS_* settings or Redis; Onfido configured,
    # so the hostile-input smoke can attack both KYC webhooks.
    env = fleet_environment(os.environ)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mindlinks_dev.runner",
            "--edge-port",
            str(edge_port),
            "--port-offset",
            str(PORT_OFFSET),
            "--run-dir",
            str(run_dir),
            "--rate",
            "0",
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    services = [s for s in FLEET.services if s.name in installed_services()]
    try:
        _wait_ready(
            [f"http://127.0.0.1:{edge_port}/health/live"]
            + [f"http://127.0.0.1:{s.port + PORT_OFFSET}/health/ready" for s in services],
            process,
            log,
        )
        with httpx.Client(base_url=f"http://127.0.0.1:{edge_port}", timeout=10) as client:
            yield client
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
