"""The end-to-end suite: the fleet as real processes (``mindlinks-local``),
driven only through the public edge, as a dashboard would."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mindlinks_dev.embedded import free_port
from mindlinks_dev.fuzz.fleet import FleetFailed, running_fleet
from mindlinks_dev.pytest_plugin import FleetClock, worker_index
from mindlinks_fleet import FLEET

# Beside a developer's `make run` on the declared ports; E2E_PORT_OFFSET lets
# two checkouts run the suite at once.
PORT_OFFSET = int(os.environ.get("E2E_PORT_OFFSET", "20000"))
WORKER_PORTS = 500
"""What each pytest-xdist worker adds to the offset, should two start a fleet
(``xdist_group_dirs`` names this directory: one worker runs it all)."""
HIGHEST_PORT = 32767
"""Below Linux's ephemeral ports, which outgoing connections may hold."""


@pytest.fixture(scope="session")
def port_offset() -> int:
    """This worker's port offset for the fleet's services."""
    offset = PORT_OFFSET + WORKER_PORTS * worker_index()
    if offset + max(s.port for s in FLEET.services) > HIGHEST_PORT:
        pytest.fail(f"E2E_PORT_OFFSET {PORT_OFFSET} leaves no ports for worker {worker_index()}")
    return offset


@pytest.fixture(scope="session")
def fleet_run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fleet's ``--run-dir``: its logs, its mailbox and, while it runs,
    ``state.json`` (the embedded AWS and Redis an operator's tools point at)."""
    return tmp_path_factory.mktemp("fleet")


@pytest.fixture(scope="session")
def edge(fleet_run_dir: Path, port_offset: int) -> Iterator[httpx.Client]:
    """The fleet as ``make fuzz`` starts it (``running_fleet``: its parts
    ready, retried while a port at the offset is taken, Onfido configured),
    stopped at the end of the session."""
    with contextlib.ExitStack() as stack:
        try:
            fleet = stack.enter_context(running_fleet(port_offset, free_port(), fleet_run_dir))
        except FleetFailed as failed:
            pytest.fail(str(failed))
        yield stack.enter_context(httpx.Client(base_url=fleet.edge_url, timeout=10))


@pytest.fixture
def fleet_clock(edge: httpx.Client, fleet_run_dir: Path) -> Iterator[FleetClock]:
    """The running fleet's clock (``<run dir>/clock``, which every service
    process reads): moved forward by the test, back to the real time after."""
    moved = FleetClock(fleet_run_dir / "clock")
    moved.reset()
    yield moved
    moved.reset()
