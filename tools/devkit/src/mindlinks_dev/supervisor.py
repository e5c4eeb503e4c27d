"""The processes of a local run: started concurrently, probed until ready,
watched while they run (a part that dies is restarted, with a growing pause
if it keeps dying), and stopped in order (SIGTERM, wait, SIGKILL).

A part is one process; it serves one app or, as the fleet host
(``mindlinks_dev.host``), several, each probed on its own port."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

HOST = "127.0.0.1"
STOP_GRACE = 20.0
"""uvicorn's graceful shutdown (10 s) plus a service's last outbox flush (5 s)."""
RESTART_PAUSE = 0.5
"""The first pause before restarting a part that died; it doubles while the
part keeps dying within ``STABLE_SECONDS`` of its start, up to ``RESTART_PAUSE_MAX``."""
RESTART_PAUSE_MAX = 30.0
STABLE_SECONDS = 60.0


@dataclass(frozen=True)
class Endpoint:
    """An app a part serves: a row of the readiness table."""

    name: str
    url: str
    probe: str
    """The path that answers 200 once the app is ready."""
    log: Path


@dataclass(frozen=True)
class Part:
    """One process of the run. It serves one app, at ``url``, or, given
    ``serves``, each of those apps (``url`` and ``probe`` are then its first's)."""

    name: str
    url: str
    probe: str
    """The path that answers 200 once the part is ready."""
    command: tuple[str, ...]
    env: Mapping[str, str]
    log: Path
    serves: tuple[Endpoint, ...] = ()

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        return self.serves or (Endpoint(self.name, self.url, self.probe, self.log),)


def busy_ports(ports: Mapping[str, int]) -> dict[str, int]:
    """The parts whose loopback port something already listens on."""
    busy: dict[str, int] = {}
    for name, port in ports.items():
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((HOST, port))
            except OSError:
                busy[name] = port
    return busy


def readiness_table(rows: Sequence[tuple[str, str, str]]) -> str:
    """Rows of (part, url, status) as an aligned table."""
    header = ("part", "url", "status")
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(2)]
    return "\n".join(f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}" for a, b, c in (header, *rows))


@dataclass
class Restart:
    """One restart of a part that died on its own."""

    name: str
    code: int
    at: float
    """``time.monotonic()`` when the death was seen."""
    pid: int = 0
    """The new process's pid."""


class Supervisor:
    def __init__(self, cwd: Path | None = None, *, restart: bool = True) -> None:
        self.cwd = cwd
        self.restart = restart
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self.parts: dict[str, Part] = {}
        self.restarts: list[Restart] = []
        self._started: dict[str, float] = {}
        self._pause: dict[str, float] = {}

    async def start(self, part: Part, *, append: bool = False) -> None:
        """Start ``part`` (it logs to ``part.log``, appending on a restart);
        returns once it is spawned."""
        self.parts[part.name] = part
        self._started[part.name] = time.monotonic()
        if not append:
            for endpoint in part.serves:  # the host appends to each app's log
                endpoint.log.write_bytes(b"")
        with part.log.open("ab" if append else "wb") as log:
            # A session of its own: a Ctrl-C in the terminal reaches only the
            # runner, which then stops the children itself, SIGTERM first.
            self.processes[part.name] = await asyncio.create_subprocess_exec(
                *part.command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(part.env),
                cwd=self.cwd,
                start_new_session=True,
            )

    async def wait_ready(self, parts: Sequence[Part], timeout: float) -> dict[str, str]:
        """Probe every endpoint of every part concurrently until it answers
        200, its process exits or time is up; returns each endpoint's status
        (``ready`` or why not) by name."""
        deadline = time.monotonic() + timeout

        async def probe(client: httpx.AsyncClient, part: Part, endpoint: Endpoint) -> str:
            process = self.processes[part.name]
            last = "not answering"
            while True:
                if process.returncode is not None:
                    return f"exited ({process.returncode})"
                with contextlib.suppress(httpx.HTTPError):
                    response = await client.get(endpoint.url + endpoint.probe, timeout=2.0)
                    if response.status_code == 200:
                        return "ready"
                    last = f"not ready ({response.status_code})"
                if time.monotonic() > deadline:
                    return last
                await asyncio.sleep(0.2)

        probes = [(part, endpoint) for part in parts for endpoint in part.endpoints]
        async with httpx.AsyncClient() as client:
            statuses = await asyncio.gather(*(probe(client, *each) for each in probes))
        return {
            endpoint.name: status for (_, endpoint), status in zip(probes, statuses, strict=True)
        }

    async def watch(
        self,
        stop: asyncio.Event,
        report: Callable[[str], None] = print,
        on_restart: Callable[[Restart], None] | None = None,
    ) -> None:
        """Until ``stop`` is set: report the parts that exit on their own and,
        unless built with ``restart=False``, start them again (ECS does the same
        for a task that dies; a crash loop backs off instead of spinning)."""
        waiting = {
            asyncio.create_task(process.wait()): name
            for name, process in self.processes.items()
            if process.returncode is None
        }
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                done, _ = await asyncio.wait(
                    {stopping, *waiting}, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done - {stopping}:
                    name, code = waiting.pop(task), task.result()
                    if not self.restart:
                        report(f"{name} exited with code {code}; see its log")
                        continue
                    pause = self._next_pause(name)
                    report(f"{name} exited with code {code}; restarting in {pause:.1f}s")
                    died = Restart(name, code, time.monotonic())
                    if await sleep_unless(stop, pause):
                        break
                    await self.start(self.parts[name], append=True)
                    died.pid = self.processes[name].pid
                    self.restarts.append(died)
                    if on_restart is not None:
                        on_restart(died)
                    waiting[asyncio.create_task(self.processes[name].wait())] = name
        finally:
            for task in (stopping, *waiting):
                task.cancel()

    def _next_pause(self, name: str) -> float:
        ran = time.monotonic() - self._started.get(name, 0.0)
        self._pause[name] = next_pause(self._pause.get(name, 0.0), ran)
        return self._pause[name]

    def running(self) -> bool:
        """Whether a part's process is still running."""
        return any(process.returncode is None for process in self.processes.values())

    def kill(self) -> None:
        """SIGKILL to every part still running."""
        for process in self.processes.values():
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()

    async def stop(self, grace: float = STOP_GRACE) -> dict[str, int]:
        """SIGTERM to every part, SIGKILL to those still running after
        ``grace`` seconds; returns each part's exit code."""
        running = [p for p in self.processes.values() if p.returncode is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        try:
            await asyncio.wait_for(asyncio.gather(*(p.wait() for p in running)), timeout=grace)
        except TimeoutError:
            self.kill()
            await asyncio.gather(*(p.wait() for p in running))
        return {
            name: p.returncode for name, p in self.processes.items() if p.returncode is not None
        }


def next_pause(previous: float, ran: float) -> float:
    """The pause before starting again what died after running ``ran``
    seconds, the pause before that having been ``previous`` (0: none)."""
    pause = RESTART_PAUSE if ran >= STABLE_SECONDS or not previous else previous * 2
    return min(pause, RESTART_PAUSE_MAX)


async def sleep_unless(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds``; True if ``stop`` was set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()
