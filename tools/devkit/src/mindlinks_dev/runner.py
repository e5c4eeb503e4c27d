"""``mindlinks-local``: the whole fleet on a developer machine, in one command.

Starts the embedded AWS (moto, every resource bootstrapped from the fleet
declaration), a Redis of its own (or ``REDIS_URL``), every installed service
as its own uvicorn process on its declared port, and the local edge on :8080;
prints a readiness table; stops everything cleanly on Ctrl-C or SIGTERM.

Everything a run leaves lives in ``.run/`` at the workspace root: one log per
part, the local mailbox (``.run/mailbox``) and ``.run/state.json`` with the
endpoints of the running parts (removed again on exit).
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
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from mindlinks_dev.bootstrap import bootstrap
from mindlinks_dev.embedded import aws_environment, moto_server, redis_server
from mindlinks_dev.openapi import repo_root
from mindlinks_dev.supervisor import HOST, Part, Supervisor, busy_ports, readiness_table
from mindlinks_fleet import FLEET
from mindlinks_kit.declaration import Fleet, Service

PREFIX = "mindlinks-local-"
PEER_URL_TEMPLATE = "http://127.0.0.1:{port}"
EDGE_TARGET = "mindlinks_dev.edge:from_environment"
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


def plan_services(
    fleet: Fleet,
    available: Mapping[str, str],
    only: Sequence[str] | None = None,
    skip: Sequence[str] = (),
) -> list[tuple[Service, str]]:
    """The services to start, in fleet order, each with its app factory target.
    Raises ``LookupError`` for names that are not in the fleet or, when asked
    for by ``only``, not installed."""
    known = {s.name for s in fleet.services}
    unknown = sorted({*(only or ()), *skip} - known)
    if unknown:
        raise LookupError(f"not services of the fleet: {', '.join(unknown)}")
    if only is not None:
        absent = sorted(set(only) - set(available))
        if absent:
            raise LookupError(f"not installed: {', '.join(absent)}")
    wanted = set(only) if only is not None else known
    return [
        (s, available[s.name])
        for s in fleet.services
        if s.name in wanted and s.name in available and s.name not in skip
    ]


def uvicorn_command(target: str, port: int, *, access_log: bool = False) -> tuple[str, ...]:
    """``python -m uvicorn --factory <target>`` on a loopback port."""
    options = f"--host {HOST} --port {port} --timeout-graceful-shutdown 10 --lifespan on"
    if not access_log:  # services log every request themselves
        options += " --no-access-log"
    return (sys.executable, "-m", "uvicorn", "--factory", target, *options.split())


INHERITED_SETTINGS = ("MINDLINKS_AWS_CALL_LOG",)
"""The caller's settings that a fleet it starts keeps: the test session's
record of AWS calls (``mindlinks_dev.iam``) follows it into the fleet."""


def without_settings(base: Mapping[str, str]) -> dict[str, str]:
    """``base`` without the caller's ``MINDLINKS_*`` settings, which a started
    fleet sets for itself, but with the ones it inherits."""
    return {
        k: v for k, v in base.items() if not k.startswith("MINDLINKS_") or k in INHERITED_SETTINGS
    }


def service_environment(
    base: Mapping[str, str],
    *,
    aws_endpoint: str,
    redis_url: str,
    mailbox: Path,
    public_url: str,
    prefix: str = PREFIX,
) -> dict[str, str]:
    """What every service process reads (see ``ServiceSettings``)."""
    return {
        **base,
        **aws_environment(aws_endpoint),
        "MINDLINKS_ENVIRONMENT": "local",
        "MINDLINKS_RESOURCE_PREFIX": prefix,
        "MINDLINKS_REDIS_URL": redis_url,
        "MINDLINKS_PEER_URL_TEMPLATE": PEER_URL_TEMPLATE,
        "MINDLINKS_PUBLIC_BASE_URL": public_url,
        "MINDLINKS_MAILBOX_DIR": str(mailbox),
        "MINDLINKS_BACKGROUND_WORKERS": "true",
        "MINDLINKS_TRUSTED_PROXY_HOPS": "1",  # the local edge appends X-Forwarded-For
        "PYTHONUNBUFFERED": "1",
    }


def edge_environment(
    base: Mapping[str, str],
    *,
    services: Sequence[str],
    cors_origins: Sequence[str] | None,
    rate: float,
    burst: int,
    public_url: str,
) -> dict[str, str]:
    """What the edge process reads (see ``mindlinks_dev.edge.EdgeSettings``);
    without ``cors_origins`` the edge keeps its default (or the caller's
    ``MINDLINKS_EDGE_CORS_ORIGINS``)."""
    origins = (
        {} if cors_origins is None else {"MINDLINKS_EDGE_CORS_ORIGINS": ",".join(cors_origins)}
    )
    return {
        **base,
        **origins,
        "MINDLINKS_EDGE_SERVICES": ",".join(services),
        "MINDLINKS_EDGE_RATE_PER_SECOND": str(rate),
        "MINDLINKS_EDGE_BURST": str(burst),
        "MINDLINKS_EDGE_PUBLIC_URL": public_url,
        "MINDLINKS_PEER_URL_TEMPLATE": PEER_URL_TEMPLATE,
        "PYTHONUNBUFFERED": "1",
    }


def same_redis(a: str, b: str) -> bool:
    """Whether two Redis URLs name the same database."""

    def key(url: str) -> tuple[str, int, str]:
        parts = urlsplit(url)
        host = parts.hostname or "127.0.0.1"
        host = "127.0.0.1" if host == "localhost" else host
        return host, parts.port or 6379, parts.path.strip("/") or "0"

    return key(a) == key(b)


def plan_parts(
    plan: Sequence[tuple[Service, str]],
    *,
    run_dir: Path,
    edge_port: int,
    env: Mapping[str, str],
    edge_env: Mapping[str, str],
    port_offset: int = 0,
) -> list[Part]:
    """The processes of a run: the edge first, then the planned services."""
    edge_command = uvicorn_command(EDGE_TARGET, edge_port, access_log=True)
    parts = [
        Part(
            "edge",
            f"http://{HOST}:{edge_port}",
            "/health/live",
            edge_command,
            edge_env,
            run_dir / "edge.log",
        )
    ]
    for service, target in plan:
        port = service.port + port_offset
        command = uvicorn_command(target, port)
        url = f"http://{HOST}:{port}"
        parts.append(
            Part(service.name, url, "/health/ready", command, env, run_dir / f"{service.name}.log")
        )
    return parts


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
    parser.add_argument("--ready-timeout", type=float, default=90.0, metavar="SECONDS")
    parser.add_argument(
        "--run-dir", type=Path, default=None, help="default: .run at the workspace root"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
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
    for log in ("moto.log", "redis.log"):
        (run_dir / log).write_bytes(b"")
    with contextlib.ExitStack() as infra:
        _say("starting the embedded AWS (moto) …")
        try:
            aws = infra.enter_context(moto_server(log=run_dir / "moto.log"))
        except TimeoutError:
            _say(f"moto did not start; see {run_dir / 'moto.log'}")
            return 1
        with ThreadPoolExecutor(1) as pool:
            created = pool.submit(bootstrap, FLEET, endpoint_url=aws, prefix=PREFIX)
            redis_kind = "REDIS_URL"
            if not redis_url:
                redis_url, redis_kind = infra.enter_context(redis_server(log=run_dir / "redis.log"))
            resources = created.result()
        _say(
            f"bootstrapped {len(resources.tables)} tables, {len(resources.queues)} queues, "
            f"{len(resources.buckets)} buckets; redis: {redis_kind}"
        )
        public_url = f"http://localhost:{args.edge_port}"
        offset = {"MINDLINKS_PORT_OFFSET": str(args.port_offset)}
        env = (
            service_environment(
                os.environ,
                aws_endpoint=aws,
                redis_url=redis_url,
                mailbox=mailbox,
                public_url=public_url,
            )
            | offset
        )
        edge_env = (
            edge_environment(
                os.environ,
                services=[s.name for s, _ in plan],
                cors_origins=args.cors_origins,
                rate=args.rate,
                burst=args.burst,
                public_url=public_url,
            )
            | offset
        )
        parts = plan_parts(
            plan,
            run_dir=run_dir,
            edge_port=args.edge_port,
            env=env,
            edge_env=edge_env,
            port_offset=args.port_offset,
        )
        state = {
            "pid": os.getpid(),
            "startedAt": datetime.now(UTC).isoformat(),
            "edge": public_url,
            "docs": f"{public_url}/docs",
            "aws": {"endpoint": aws, "prefix": PREFIX},
            "redis": {"url": redis_url, "kind": redis_kind},
            "mailbox": str(mailbox),
        }
        asyncio.run(_supervise(parts, state, run_dir, root, args.ready_timeout))
        # The event loop restored the default handlers: let the cleanup finish.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _say("stopping the embedded AWS and Redis …")
    _say("stopped")
    return 0


async def _supervise(
    parts: Sequence[Part], state: dict[str, Any], run_dir: Path, cwd: Path, timeout: float
) -> None:
    stop = asyncio.Event()
    supervisor = Supervisor(cwd)

    def on_signal() -> None:
        if stop.is_set():  # a second Ctrl-C: no more waiting
            supervisor.kill()
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, on_signal)
    state_file = run_dir / "state.json"
    try:
        _say(f"starting {len(parts) - 1} services and the edge …")
        await asyncio.gather(*(supervisor.start(part) for part in parts))
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
            p.name: {
                "url": p.url,
                "pid": supervisor.processes[p.name].pid,
                "log": str(p.log),
                "status": statuses.get(p.name, "starting"),
            }
            for p in parts
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
        (p.name, state["edge"] if p.name == "edge" else p.url, statuses[p.name]) for p in parts
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
