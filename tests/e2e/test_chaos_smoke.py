"""``make chaos`` in small, on the end-to-end fleet: a service killed with
SIGKILL mid-lifecycle is restarted by the supervisor and the lifecycle
completes through retries; published events delivered again (twice,
shuffled) and Stripe and KYC webhooks replayed, stale or forged change
nothing; then the chaos suite's invariants hold over everything so far."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from pathlib import Path

import httpx

from mindlinks_dev.chaos.fleet import Endpoints
from mindlinks_dev.chaos.invariants import Findings, check_all
from mindlinks_dev.chaos.replays import Replays
from mindlinks_dev.chaos.traffic import Attempts, run_lifecycles
from mindlinks_dev.outside import create_admin

SETTLE_SECONDS = 60.0


def _pid(run_dir: Path, part: str) -> int:
    state = json.loads((run_dir / "state.json").read_text())
    pid: int = state["parts"][part]["pid"]
    return pid


def test_a_killed_service_and_replayed_deliveries_break_nothing(
    edge: httpx.Client, fleet_run_dir: Path
) -> None:
    endpoints = Endpoints.of_state(fleet_run_dir / "state.json", str(edge.base_url))
    admin = create_admin(edge, fleet_run_dir)
    attempts = Attempts()
    outcome: list[object] = []
    traffic = threading.Thread(
        target=lambda: outcome.extend(
            run_lifecycles(endpoints.edge_url, 1, attempts, patience=90, say=lambda _: None)
        )
    )
    killed = _pid(fleet_run_dir, "payment")
    traffic.start()
    time.sleep(2)  # the lifecycle is under way; payment is needed near its end
    os.kill(killed, signal.SIGKILL)
    traffic.join(timeout=240)
    assert not traffic.is_alive(), "the lifecycle did not finish"
    [lifecycle] = outcome
    assert lifecycle.ok, lifecycle.error  # type: ignore[attr-defined]
    assert _pid(fleet_run_dir, "payment") != killed, "the supervisor did not restart payment"
    assert not attempts.hung

    replays = Replays(endpoints, random.Random(4))
    assert "delivered twice more" in replays.redeliver_events()
    refused: list[str] = []
    replayed = replays.webhooks(refused)
    assert refused == [], replayed
    assert "no succeeded intent" not in replayed
    assert "no approved KYC session" not in replayed

    deadline = time.monotonic() + SETTLE_SECONDS
    found = Findings()
    while time.monotonic() < deadline:
        found = check_all(endpoints, edge, admin.headers)
        if not found.breaches:
            break
        time.sleep(2)
    assert found.breaches == []
    assert found.counts["contracts active"] >= 1
    assert found.counts["ledger entries verified"] >= 1
