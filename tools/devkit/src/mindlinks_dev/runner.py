"""``mindlinks-local``: the whole fleet on a developer machine, in one command.

Starts the embedded AWS (moto, every resource bootstrapped from the fleet
declaration), a Redis of its own (or ``REDIS_URL``), every installed service
on its declared port and the local edge on :8080; prints a readiness table;
stops everything cleanly on Ctrl-C or SIGTERM.

By default the services and the edge share one process, the fleet host
(``mindlinks_dev.host``): it imports the stack once, while the embedded AWS
starts, and serves each app on its own port. ``--processes`` runs each as its
own uvicorn process instead, as deployed: what ``make chaos``, ``make fuzz``,
``make load`` and the end-to-end suite run, since they kill or measure
single services.

Everything a run leaves lives in ``.run/`` at the workspace root: one log per
service and for the edge (and ``host.log``, the fleet host's own lines), the
local mailbox (``.run/mailbox``) and ``.run/state.json`` with the endpoints
of the running parts (removed again on exit), and ``.run/clock``, the fleet
clock's offset: every run starts on the real time, and
``mindlinks-local clock advance 14d`` (``make clock BY=14d``) moves every
service's clock forward at once, so a fourteen-day timer fires now.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from mindlinks_dev.bootstrap import bootstrap
from mindlinks_dev.embedded import free_port, moto_server, redis_server
from mindlinks_dev.local_plan import (
    AWS_READY,
    PREFIX,
    edge_environment,
    plan_host,
    plan_parts,
    plan_services,
    service_environment,
)
from mindlinks_dev.openapi import repo_root
from mindlinks_dev.supervisor import HOST, Part, Supervisor, busy_ports, readiness_table
from mindlinks_fleet import FLEET
from mindlinks_kit import clock
from mindlinks_kit.declaration import Service

SERVICES_GROUP = "mindlinks.services"
"""``harness.ENTRY_POINT_GROUP``, without importing the kit's runtime (a test keeps them equal)."""
EDGE_RATE = 20.0
"""The edge's default limit: requests a second per client address (``--rate``)."""
EDGE_BURST = 40
"""…and how many a client may save up (``--burst``)."""
TEST_REDIS = "redis://127.0.0.1:6379/9"
"""The test suite's database (``MINDLINKS_TEST_REDIS_URL``): never used here."""


def installed() -> dict[str, str]:
    """Installed services (entry point name → ``module:attr``), not imported."""
    return {ep.name: f"{ep.module}:{ep.attr}" for ep in entry_points(group=SERVICES_GROUP)}


def same_redis(a: str, b: str) -> bool:
    """Whether two Redis URLs name the same database."""

    def key(url: str) -> tuple[str, int, str]:
        parts = urlsplit(url)
        host = parts.hostname or "127.0.0.1"
        host = "127.0.0.1" if host == "localhost" else host
        return host, parts.port or 6379, parts.path.strip("/") or "0"

    return key(a) == key(b)


def split_names(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _say(message: str) -> None:
    print(message, flush=True)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="mindlinks-local", description="Run the Mind-Links fleet on this machine."
    )
    parser.add_argument(
        "--only",
        type=split_names,
        default=None,
        metavar="NAMES",
        help="comma-separated services to start (--only '' starts AWS, Redis and the edge only)",
    )
    parser.add_argument(
        "--skip",
        type=split_names,
        default=[],
        metavar="NAMES",
        help="services not to start (e.g. the one you run in a debugger)",
    )
    parser.add_argument("--edge-port", type=int, default=8080)
    parser.add_argument(
        "--port-offset",
        type=int,
        default=0,
        help="added to every service port (run a second fleet beside another)",
    )
    parser.add_argument(
        "--cors-origins",
        type=split_names,
        default=None,
        metavar="ORIGINS",
        help="origins the dashboards run on (default: http://localhost:3000,3100,3200)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=EDGE_RATE,
        help="edge requests per second per client IP (0: unlimited)",
    )
    parser.add_argument("--burst", type=int, default=EDGE_BURST)
    parser.add_argument(
        "--processes",
        action="store_true",
        help="each service and the edge in a uvicorn process of its own (as deployed; "
        "default: all in one process, the fleet host)",
    )
    parser.add_argument("--ready-timeout", type=float, default=90.0, metavar="SECONDS")
    parser.add_argument(
        "--run-dir", type=Path, default=None, help="default: .run at the workspace root"
    )
    return parser.parse_args(argv)


CLOCK = "clock"
"""The fleet clock's file in the run directory (``mindlinks_kit.clock``)."""


def clock_main(argv: Sequence[str]) -> int:
    """``mindlinks-local clock {show,advance DURATION,reset} [--run-dir DIR]``."""
    parser = argparse.ArgumentParser(
        prog="mindlinks-local clock",
        description="Move the local fleet's clock (timers fire when it reaches them).",
    )
    parser.add_argument("action", choices=("show", "advance", "reset"))
    parser.add_argument("duration", nargs="?", help="with advance: e.g. 14d, 2h, 15m, 90s")
    parser.add_argument("--run-dir", type=Path, default=None, help="default: .run")
    args = parser.parse_args(argv)
    path = (args.run_dir or repo_root(Path.cwd()) / ".run") / CLOCK
    if args.action == "advance":
        if not args.duration:
            parser.error("advance takes a duration, e.g. 14d")
        try:
            seconds = clock.parse_duration(args.duration)
        except ValueError as exc:
            parser.error(str(exc))
        clock.advance(path, seconds)
    elif args.action == "reset":
        path.unlink(missing_ok=True)
    offset = float(path.read_text(encoding="utf-8")) if path.exists() else 0.0
    moved = datetime.now(UTC) + timedelta(seconds=offset)
    _say(f"fleet clock: {clock.iso(moved)} ({offset / 86400:+.3f} days)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    if given[:1] == [CLOCK]:
        return clock_main(given[1:])
    args = _parse(given)
    try:
        plan = plan_services(FLEET, installed(), args.only, args.skip)
    except LookupError as exc:
        _say(f"mindlinks-local: {exc}")
        return 2
    busy = busy_ports(
        {"edge": args.edge_port, **{s.name: s.port + args.port_offset for s, _ in plan}}
    )
    if busy:
        taken = ", ".join(f"{name} ({port})" for name, port in busy.items())
        _say(f"mindlinks-local: ports in use: {taken} — is another local run going?")
        return 1
    redis_url = os.environ.get("REDIS_URL")
    if redis_url and same_redis(redis_url, os.environ.get("MINDLINKS_TEST_REDIS_URL", TEST_REDIS)):
        _say(f"mindlinks-local: REDIS_URL {redis_url} is the test suite's database")
        return 2

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # startup: stop like Ctrl-C does
    try:
        return _run(args, plan, redis_url)
    except KeyboardInterrupt:
        _say("stopped")
        return 0


def _run(
    args: argparse.Namespace, plan: Sequence[tuple[Service, str]], redis_url: str | None
) -> int:
    root = repo_root(Path.cwd())
    run_dir: Path = (args.run_dir or root / ".run").resolve()
    mailbox = run_dir / "mailbox"
    shutil.rmtree(mailbox, ignore_errors=True)  # moto starts empty: so does the mailbox
    mailbox.mkdir(parents=True)
    (run_dir / CLOCK).unlink(missing_ok=True)  # and the clock, on the real time
    for log in ("moto.log", "redis.log"):
        (run_dir / log).write_bytes(b"")
    aws_ready = run_dir / AWS_READY
    aws_ready.unlink(missing_ok=True)
    # Every address is chosen now, so the fleet host can start before them.
    aws_port = free_port()
    aws = f"http://{HOST}:{aws_port}"
    redis_port = None if redis_url else free_port()
    redis_url = redis_url or f"redis://{HOST}:{redis_port}/0"
    public_url = f"http://localhost:{args.edge_port}"
    parts = _parts(args, plan, run_dir, aws=aws, redis_url=redis_url, public_url=public_url)
    state: dict[str, Any] = {
        "pid": os.getpid(),
        "startedAt": datetime.now(UTC).isoformat(),
        "edge": public_url,
        "docs": f"{public_url}/docs",
        "aws": {"endpoint": aws, "prefix": PREFIX},
        "redis": {"url": redis_url, "kind": "REDIS_URL"},
        "mailbox": str(mailbox),
    }
    supervisor = Supervisor(root)
    with asyncio.Runner() as loop, contextlib.ExitStack() as infra:
        try:
            if not args.processes:
                _say(f"starting the fleet host ({_counted(len(plan))} in one process) …")
                loop.run(supervisor.start(parts[0]))  # it imports while the AWS starts
            _say("starting the embedded AWS (moto) …")
            try:
                infra.enter_context(moto_server(aws_port, log=run_dir / "moto.log"))
            except TimeoutError:
                _say(f"moto did not start; see {run_dir / 'moto.log'}")
                return 1
            with ThreadPoolExecutor(1) as pool:
                created = pool.submit(bootstrap, FLEET, endpoint_url=aws, prefix=PREFIX)
                if redis_port:
                    _, state["redis"]["kind"] = infra.enter_context(
                        redis_server(log=run_dir / "redis.log", port=redis_port)
                    )
                resources = created.result()
            aws_ready.touch()
            _say(
                f"bootstrapped {len(resources.tables)} tables, {len(resources.queues)} queues, "
                f"{len(resources.buckets)} buckets; redis: {state['redis']['kind']}"
            )
            loop.run(_supervise(supervisor, parts, state, run_dir, args.ready_timeout))
        finally:
            if supervisor.running():  # interrupted before supervising: the host is up
                loop.run(supervisor.stop())
            aws_ready.unlink(missing_ok=True)
        # The event loop keeps its signal handlers: the cleanup cannot be interrupted.
        _say("stopping the embedded AWS and Redis …")
    _say("stopped")
    return 0


def _parts(
    args: argparse.Namespace,
    plan: Sequence[tuple[Service, str]],
    run_dir: Path,
    *,
    aws: str,
    redis_url: str,
    public_url: str,
) -> list[Part]:
    """The processes of the run: the fleet host, or with ``--processes`` the
    edge and each service."""
    offset = {"MINDLINKS_PORT_OFFSET": str(args.port_offset)}
    mailbox = run_dir / "mailbox"
    env = (
        service_environment(
            os.environ,
            aws_endpoint=aws,
            redis_url=redis_url,
            mailbox=mailbox,
            public_url=public_url,
            clock_file=run_dir / CLOCK,
        )
        | offset
    )
    edge_env = (
        edge_environment(
            os.environ if args.processes else env,  # the host serves both: it reads both
            services=[s.name for s, _ in plan],
            cors_origins=args.cors_origins,
            rate=args.rate,
            burst=args.burst,
            public_url=public_url,
        )
        | offset
    )
    port, ports = args.edge_port, args.port_offset
    if args.processes:
        return plan_parts(
            plan, run_dir=run_dir, edge_port=port, env=env, edge_env=edge_env, port_offset=ports
        )
    return [plan_host(plan, run_dir=run_dir, edge_port=port, env=edge_env, port_offset=ports)]


def _counted(services: int) -> str:
    return f"{services} service{'s' if services != 1 else ''} and the edge"


async def _supervise(
    supervisor: Supervisor,
    parts: Sequence[Part],
    state: dict[str, Any],
    run_dir: Path,
    timeout: float,
) -> None:
    stop = asyncio.Event()

    def on_signal() -> None:
        if stop.is_set():  # a second Ctrl-C: no more waiting
            supervisor.kill()
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, on_signal)
    state_file = run_dir / "state.json"
    try:
        waiting = [part for part in parts if part.name not in supervisor.processes]
        if waiting:
            _say(f"starting {_counted(len(waiting) - 1)} …")
        await asyncio.gather(*(supervisor.start(part) for part in waiting))
        _write_state(state_file, state, parts, supervisor, {})
        ready = asyncio.create_task(supervisor.wait_ready(parts, timeout))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({ready, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if ready.done():
            statuses = ready.result()
            _write_state(state_file, state, parts, supervisor, statuses)
            _report(state, parts, statuses, run_dir)
            await supervisor.watch(
                stop,
                _say,
                on_restart=lambda _: _write_state(state_file, state, parts, supervisor, statuses),
            )
        ready.cancel()
        stopping.cancel()
    finally:
        _say("stopping services … (Ctrl-C again: kill them)")
        await supervisor.stop()
        state_file.unlink(missing_ok=True)


def _write_state(
    path: Path,
    state: dict[str, Any],
    parts: Sequence[Part],
    supervisor: Supervisor,
    statuses: Mapping[str, str],
) -> None:
    ready = all(status == "ready" for status in statuses.values())
    overall = "starting" if not statuses else "ready" if ready else "degraded"
    state = {
        **state,
        "status": overall,
        "parts": {
            endpoint.name: {
                "url": endpoint.url,
                "pid": supervisor.processes[part.name].pid,
                "log": str(endpoint.log),
                "status": statuses.get(endpoint.name, "starting"),
            }
            for part in parts
            for endpoint in part.endpoints
        },
    }
    path.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")


def _report(
    state: Mapping[str, Any], parts: Sequence[Part], statuses: Mapping[str, str], run_dir: Path
) -> None:
    rows = [
        ("aws", state["aws"]["endpoint"], "ready"),
        ("redis", state["redis"]["url"], f"ready ({state['redis']['kind']})"),
    ]
    rows += [
        (e.name, state["edge"] if e.name == "edge" else e.url, statuses[e.name])
        for part in parts
        for e in part.endpoints
    ]
    _say("\n" + readiness_table(rows) + "\n")
    waiting = [name for name, status in statuses.items() if status != "ready"]
    if waiting:
        _say(f"not ready: {', '.join(waiting)} — see {run_dir}/<part>.log")
    else:
        _say("all parts ready")
    missing = sorted({s.name for s in FLEET.services} - set(statuses))
    if missing:
        _say(f"not started (not installed or left out): {', '.join(missing)}")
    _say(
        f"API docs: {state['docs']}\nmailbox: {state['mailbox']}\nlogs: {run_dir}\n"
        "Ctrl-C stops everything."
    )


if __name__ == "__main__":
    raise SystemExit(main())
