"""The processes of a local run: started concurrently, probed until ready,
watched while they run, and stopped in order (SIGTERM, wait, SIGKILL)."""

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


@dataclass(frozen=True)
class Part:
    """One process of the run."""

    name: str
    url: str
    probe: str
    """The path that answers 200 once the part is ready."""
    command: tuple[str, ...]
    env: Mapping[str, str]
    log: Path


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


class Supervisor:
    def __init__(self, cwd: Path | None = None) -> None:
        self.cwd = cwd
        self.processes: dict[str, asyncio.subprocess.Process] = {}

    async def start(self, part: Part) -> None:
        """Start ``part`` (it logs to ``part.log``); returns once it is spawned."""
        with part.log.open("wb") as log:
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
        """Probe every part concurrently until it answers 200, exits or time is
        up; returns each part's status (``ready`` or why not)."""
        deadline = time.monotonic() + timeout

        async def probe(client: httpx.AsyncClient, part: Part) -> str:
            process = self.processes[part.name]
            last = "not answering"
            while True:
                if process.returncode is not None:
                    return f"exited ({process.returncode})"
                with contextlib.suppress(httpx.HTTPError):
                    response = await client.get(part.url + part.probe, timeout=2.0)
                    if response.status_code == 200:
                        return "ready"
                    last = f"not ready ({response.status_code})"
                if time.monotonic() > deadline:
                    return last
                await asyncio.sleep(0.2)

        async with httpx.AsyncClient() as client:
            statuses = await asyncio.gather(*(probe(client, part) for part in parts))
        return dict(zip((part.name for part in parts), statuses, strict=True))

    async def watch(self, stop: asyncio.Event, report: Callable[[str], None] = print) -> None:
        """Until ``stop`` is set: report the parts that exit on their own."""
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
                    report(f"{waiting.pop(task)} exited with code {task.result()}; see its log")
        finally:
            for task in (stopping, *waiting):
                task.cancel()

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
