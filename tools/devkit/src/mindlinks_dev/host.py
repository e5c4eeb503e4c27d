"""The fleet host: the services of a local run and the edge in one process.

``mindlinks-local`` (without ``--processes``) runs it as its one part::

    python -m mindlinks_dev.host --log-dir .run --after .run/aws.ready \\
        --serve edge 8080 mindlinks_dev.edge:from_environment \\
        --serve auth 3001 mindlinks_auth.app:create ...

Each app is built by its own factory and served by a uvicorn server of its
own on its own port, all on one event loop: peers still call each other over
HTTP with service tokens, the edge still proxies over HTTP, and events still
travel outbox → EventBridge → SQS through the embedded AWS. What the apps
share is one import of the stack (fastapi, pydantic, aioboto3, the kit, the
fleet declaration), which eleven processes each paid for in start-up time
and memory. What stays each app's own:

- settings: each factory builds its own service's settings class. The
  runner gives every service the same environment in either mode, so they
  read what they would read in a process of their own; ``Host`` takes any
  factory, e.g. one given explicit settings;
- logs: each app runs in a context of its own, where structlog's ``service``
  is bound and ``serving`` names the app; the command routes every line
  written under it (structlog, EMF metrics, uvicorn's own) to
  ``<log-dir>/<app>.log``, and lines of no app to its own output;
- metrics and traces: ``create_app`` gives each app its own ``Metrics`` and
  tracer provider, named after its service;
- signals: SIGINT and SIGTERM are handled once, by the command, and stop
  every server gracefully (uvicorn's own capture is off: with several
  servers only the last one started would hear them).

An app that fails to start (its lifespan raised, its port is taken, its
settings were refused) is started again with a growing pause, as the
supervisor restarts a process that dies; the others go on serving.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import structlog
import uvicorn
from uvicorn.importer import import_from_string
from uvicorn.loops.auto import auto_loop_factory

from mindlinks_dev.supervisor import HOST, next_pause, sleep_unless
from mindlinks_kit.observability import configure_logging

GRACEFUL_SECONDS = 10
"""uvicorn's graceful shutdown, as ``runner.uvicorn_command`` gives each process."""
GATE_POLL_SECONDS = 0.05

serving: ContextVar[str | None] = ContextVar("mindlinks_hosted_app", default=None)
"""The hosted app the running code belongs to (None: the host's own code)."""
log = structlog.get_logger("mindlinks.host")


@dataclass(frozen=True)
class Hosted:
    """One app of the host."""

    name: str
    port: int
    factory: Callable[[], Any]
    """Builds the ASGI app; called again for each restart."""


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to the host."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Host:
    """Serves ``apps`` on one event loop until ``stop()``."""

    def __init__(self, apps: Sequence[Hosted], host: str = HOST) -> None:
        names = [app.name for app in apps]
        if len(set(names)) != len(names):
            raise ValueError(f"an app is named twice: {names}")
        self.apps = list(apps)
        self.host = host
        self.built: dict[str, Any] = {}
        """Each app as last built (while it serves, the one it serves)."""
        self.servers: dict[str, uvicorn.Server] = {}
        self._open = asyncio.Event()
        self._stopping = asyncio.Event()

    async def run(self, after: Path | None = None) -> None:
        """Build every app, then (once ``after`` exists, when given) serve
        each until ``stop()``. Building first lets the imports overlap the
        embedded AWS's start-up; serving needs its resources."""
        tasks = [asyncio.create_task(self._keep_serving(app), name=app.name) for app in self.apps]
        try:
            await asyncio.sleep(0)  # each task builds its app before it first waits
            log.info("host.built", apps=len(self.built), cpu_seconds=round(time.process_time(), 1))
            if after is not None:
                await self._until_exists(after)
            log.info("host.serving", cpu_seconds=round(time.process_time(), 1))
            self._open.set()
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _until_exists(self, path: Path) -> None:
        """A file offers nothing to wait on but its appearance: poll."""
        while not await asyncio.to_thread(path.exists):
            if await sleep_unless(self._stopping, GATE_POLL_SECONDS):
                return

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self, *, force: bool = False) -> None:
        """Every server shuts down gracefully, or, with ``force``, without
        waiting for open connections."""
        self._stopping.set()
        for server in self.servers.values():
            server.should_exit = True
            server.force_exit = server.force_exit or force

    async def _keep_serving(self, app: Hosted) -> None:
        # A task runs in a copy of its creator's context: what is set here
        # is this app's alone, and every task it starts inherits it.
        serving.set(app.name)
        structlog.contextvars.bind_contextvars(service=app.name)
        built = self._build(app)
        await self._open.wait()
        pause = 0.0
        while not self._stopping.is_set():
            started = time.monotonic()
            if built is not None:
                await self._serve(app, built)
                if self._stopping.is_set():
                    return
            pause = next_pause(pause, ran=time.monotonic() - started)
            log.warning("host.restarting", app=app.name, pause_seconds=pause)
            if await sleep_unless(self._stopping, pause):
                return
            built = self._build(app)

    def _build(self, app: Hosted) -> Any | None:
        try:
            self.built[app.name] = app.factory()
        except (Exception, SystemExit):  # a refused setting ends a process with SystemExit
            log.exception("host.build_failed", app=app.name)
            return None
        return self.built[app.name]

    async def _serve(self, app: Hosted, asgi: Any) -> None:
        config = uvicorn.Config(
            asgi,
            host=self.host,
            port=app.port,
            lifespan="on",
            log_config=None,  # the host's logging: its dictConfig would reset every server's
            access_log=False,  # services log each request themselves, the edge writes its own
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
        )
        server = _Server(config)
        self.servers[app.name] = server
        try:
            await server.serve()
        except SystemExit as exited:  # uvicorn's answer to a failed start-up or a taken port
            log.error("host.start_failed", app=app.name, code=exited.code)
        finally:
            del self.servers[app.name]


class LogsByApp(io.TextIOBase):
    """The host's ``sys.stdout`` and ``sys.stderr``: what an app's code
    writes goes to that app's log, anything else to ``other``."""

    def __init__(self, logs: Mapping[str, TextIO], other: TextIO) -> None:
        super().__init__()
        self.logs = logs
        self.other = other

    def _target(self) -> TextIO:
        return self.logs.get(serving.get() or "", self.other)

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mindlinks_dev.host", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--serve",
        nargs=3,
        action="append",
        default=[],
        metavar=("NAME", "PORT", "FACTORY"),
        help="an app: its name, its port, its factory as module:attribute (repeatable)",
    )
    parser.add_argument("--log-dir", type=Path, required=True, help="where <name>.log goes")
    parser.add_argument(
        "--after", type=Path, default=None, help="serve once this file exists (build before)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    apps = [Hosted(name, int(port), _factory(target)) for name, port, target in args.serve]
    with contextlib.ExitStack() as files:
        logs = {
            app.name: files.enter_context(
                (args.log_dir / f"{app.name}.log").open("a", buffering=1, encoding="utf-8")
            )
            for app in apps
        }
        sys.stdout = LogsByApp(logs, sys.stdout)
        sys.stderr = LogsByApp(logs, sys.stderr)
        # As every app will: the host's own lines are JSON from the start,
        # and uvicorn's have a handler without a service.
        configure_logging("host")
        with asyncio.Runner(loop_factory=auto_loop_factory(use_subprocess=False)) as runner:
            runner.run(_serve_until_signalled(apps, args.after))
    return 0


def _factory(target: str) -> Callable[[], Any]:
    """``module:attribute``, imported when the app is first built."""
    return lambda: import_from_string(target)()


async def _serve_until_signalled(apps: Sequence[Hosted], after: Path | None) -> None:
    host = Host(apps)

    def on_signal() -> None:
        host.stop(force=host.stopping)  # a second signal: no more waiting

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    await host.run(after)


if __name__ == "__main__":
    raise SystemExit(main())
