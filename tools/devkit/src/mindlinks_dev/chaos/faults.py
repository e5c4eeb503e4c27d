"""The faults the chaos suite injects, each with the time the fleet took to
recover from it: every part ready again and a canary read through the edge
answered. Direct reads and writes (the outboxes to re-deliver, the objects a
webhook names) go to the embedded AWS itself, never through its proxy."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mindlinks_dev.chaos.fleet import ChaosFleet
from mindlinks_dev.chaos.replays import Replays

OUTAGE_SECONDS = 10.0
SLOW_SECONDS = 5.0
SLOW_FOR = 20.0
FAILING_FOR = 15.0
RECOVERY_TIMEOUT = 180.0


@dataclass
class Fault:
    name: str
    detail: str = ""
    started: float = 0.0
    ended: float = 0.0
    recovered_after: float | None = None
    """Seconds from the end of the fault until the fleet answered again."""
    last_waited_on: str = ""
    """What the recovery waited for last (a part, or the canary read)."""
    refused: list[str] = field(default_factory=list)
    """What a webhook fault expected refused and was not (must stay empty)."""


class Injector:
    def __init__(
        self,
        fleet: ChaosFleet,
        rng: random.Random,
        canary: Callable[[], bool],
        say: Callable[[str], None],
    ) -> None:
        self.fleet = fleet
        self.rng = rng
        self.replays = Replays(fleet.endpoints, rng)
        self.canary = canary
        self.say = say

    async def inject(self, name: str) -> Fault:
        fault = Fault(name, started=time.monotonic())
        action = getattr(self, name.replace("-", "_"))
        try:
            fault.detail = await action(fault)
        except Exception as exc:  # the injector's own failure fails the run, not the fleet
            fault.detail = f"could not inject: {exc!r}"[:300]
            fault.refused.append(f"{name} could not be injected: {exc!r}"[:300])
        fault.ended = time.monotonic()
        fault.recovered_after = await self.recovery(fault.ended, fault)
        recovered = (
            f"recovered in {fault.recovered_after:.1f}s"
            if fault.recovered_after is not None
            else "NOT recovered"
        )
        self.say(f"fault {name}: {fault.detail}; {recovered}")
        return fault

    async def recovery(self, since: float, fault: Fault) -> float | None:
        """Seconds until every part is ready and the canary answers; what was
        still waited on last goes into ``fault.last_waited_on``."""
        deadline = since + RECOVERY_TIMEOUT
        while time.monotonic() < deadline:
            statuses = await self.fleet.ready(timeout=2.0)
            waiting = sorted(name for name, status in statuses.items() if status != "ready")
            if not waiting and await asyncio.to_thread(self.canary):
                return time.monotonic() - since
            fault.last_waited_on = ", ".join(waiting) or "the canary read"
            await asyncio.sleep(0.2)
        return None

    # -- the faults ----------------------------------------------------------

    async def kill(self, fault: Fault) -> str:
        """kill -9 of a random service; the supervisor restarts it."""
        part = self.rng.choice(self.fleet.services)
        before = len(self.fleet.restarts)
        pid = self.fleet.supervisor.processes[part.name].pid
        os.kill(pid, signal.SIGKILL)
        for _ in range(600):
            if len(self.fleet.restarts) > before:
                break
            await asyncio.sleep(0.1)
        return f"kill -9 {part.name} (pid {pid})"

    async def aws_down(self, fault: Fault) -> str:
        return await self._outage("aws", "the embedded AWS")

    async def redis_down(self, fault: Fault) -> str:
        return await self._outage("redis", "Redis")

    async def _outage(self, link: str, what: str) -> str:
        proxy = self.fleet.proxies[link]
        await proxy.cut_link()
        await asyncio.sleep(OUTAGE_SECONDS)
        await proxy.heal()
        return f"{what} unreachable for {OUTAGE_SECONDS:.0f}s"

    async def slow_peer(self, fault: Fault) -> str:
        proxy = self.fleet.proxies[self.fleet.victim]
        proxy.delay = SLOW_SECONDS
        await asyncio.sleep(SLOW_FOR)
        proxy.delay = 0.0
        await proxy.cut_link()
        await asyncio.sleep(FAILING_FOR)
        await proxy.heal()
        return (
            f"{self.fleet.victim} slow ({SLOW_SECONDS:.0f}s a request) for {SLOW_FOR:.0f}s, "
            f"then unreachable for {FAILING_FOR:.0f}s"
        )

    async def redeliver_events(self, fault: Fault) -> str:
        return await asyncio.to_thread(self.replays.redeliver_events)

    async def webhooks(self, fault: Fault) -> str:
        return await asyncio.to_thread(self.replays.webhooks, fault.refused)
