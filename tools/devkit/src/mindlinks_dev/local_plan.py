"""What a local run starts: the services, the environment each process
reads, and the processes — the fleet host serving them all, or (with
``--processes``) one uvicorn process per service and one for the edge.
Nothing here starts anything: ``mindlinks_dev.runner`` does."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from mindlinks_dev.embedded import aws_environment
from mindlinks_dev.supervisor import HOST, Endpoint, Part
from mindlinks_kit.clock import CLOCK_FILE
from mindlinks_kit.declaration import Fleet, Service

PREFIX = "mindlinks-local-"
PEER_URL_TEMPLATE = "http://127.0.0.1:{port}"
EDGE_TARGET = "mindlinks_dev.edge:from_environment"
HOST_PART = "host"
"""The fleet host's name as a part (its apps keep their own names)."""
AWS_READY = "aws.ready"
"""Written in the run directory once the embedded AWS is bootstrapped: the
fleet host builds its apps meanwhile and serves them once it exists."""


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


def uvicorn_command(target: str, port: int) -> tuple[str, ...]:
    """``python -m uvicorn --factory <target>`` on a loopback port, without
    uvicorn's access log (services log every request, the edge its own line)."""
    options = f"--host {HOST} --port {port} --timeout-graceful-shutdown 10 --lifespan on"
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
    clock_file: Path | None = None,
) -> dict[str, str]:
    """What every service process reads (see ``ServiceSettings``); with
    ``clock_file``, the fleet clock's offset (``mindlinks_kit.clock``)."""
    moved = {} if clock_file is None else {CLOCK_FILE: str(clock_file)}
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
        **moved,
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
    edge_command = uvicorn_command(EDGE_TARGET, edge_port)  # it writes its own access log
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


def plan_host(
    plan: Sequence[tuple[Service, str]],
    *,
    run_dir: Path,
    edge_port: int,
    env: Mapping[str, str],
    port_offset: int = 0,
) -> Part:
    """The one process of a run without ``--processes``: the fleet host,
    serving the edge and the planned services, each on its port, logging to
    its own file; ``env`` is what the services and the edge read."""
    apps = [("edge", edge_port, EDGE_TARGET, "/health/live")]
    apps += [(s.name, s.port + port_offset, target, "/health/ready") for s, target in plan]
    command = [sys.executable, "-m", "mindlinks_dev.host", "--log-dir", str(run_dir)]
    command += ["--after", str(run_dir / AWS_READY)]  # the edge writes its own access log
    for name, port, target, _ in apps:
        command += ["--serve", name, str(port), target]
    serves = tuple(
        Endpoint(name, f"http://{HOST}:{port}", probe, run_dir / f"{name}.log")
        for name, port, _, probe in apps
    )
    first = serves[0]
    return Part(
        HOST_PART, first.url, first.probe, tuple(command), env, run_dir / "host.log", serves
    )
