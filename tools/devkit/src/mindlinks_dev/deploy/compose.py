"""``docker-compose.yml`` from the fleet declaration.

    python -m mindlinks_dev.deploy.compose --write   # rewrite docker-compose.yml
    python -m mindlinks_dev.deploy.compose --check   # exit 1 when it is out of date

The stack: Redis, an emulated AWS (moto in server mode, the dev image), a
one-shot ``bootstrap`` creating every resource of the declaration in it (the
same code as ``make run``), every service built from ``docker/Dockerfile``
with its ``MINDLINKS_*`` environment (``environment.compose_environment``),
and the local edge on :8080. Services start once AWS and Redis are healthy and
the bootstrap has finished; the edge once every service is healthy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from mindlinks_dev.deploy.artifact import main as artifact_main
from mindlinks_dev.deploy.environment import (
    AWS_REGION,
    COMPOSE_PREFIX,
    COMPOSE_PUBLIC_URL,
    PEER_URL_TEMPLATES,
    compose_environment,
)
from mindlinks_dev.deploy.matrix import built
from mindlinks_fleet import FLEET
from mindlinks_kit.declaration import Fleet, Service

PATH = "docker-compose.yml"
DOCKERFILE = "docker/Dockerfile"
REDIS_IMAGE = "redis:7.4-alpine"
DEV_IMAGE = "mindlinks/dev:local"
MOTO_PORT = 5000
EDGE_PORT = 8080
HEADER = """\
# GENERATED from the fleet declaration (libs/fleet) by
#   python -m mindlinks_dev.deploy.compose --write
# Do not edit: a test fails when this file differs from the generated one.
#
#   MINDLINKS_CURSOR_SECRET=$(openssl rand -hex 32) docker compose up --build
#
# The whole fleet behind the local edge on http://localhost:8080, on an
# emulated AWS (moto) bootstrapped like `make run` does, and Redis. Outside
# providers (Stripe, KYC, registry, SendGrid) run in local mode.
"""


def _python_probe(url: str) -> list[str]:
    return [
        "CMD",
        "python",
        "-c",
        f"import urllib.request; urllib.request.urlopen('{url}', timeout=3)",
    ]


def _healthcheck(test: list[str], start: str = "10s") -> dict[str, Any]:
    return {
        "test": test,
        "interval": "5s",
        "timeout": "3s",
        "retries": 30,
        "start_period": start,
    }


def _dev_build() -> dict[str, Any]:
    return {
        "context": ".",
        "dockerfile": DOCKERFILE,
        "target": "dev",
        "args": {"PACKAGE": "tools/devkit"},
    }


def service_block(service: Service) -> dict[str, Any]:
    port = str(service.port)
    return {
        "build": {
            "context": ".",
            "dockerfile": DOCKERFILE,
            "target": "service",
            "args": {"SERVICE": service.name, "PORT": port},
        },
        "image": f"mindlinks/{service.name}:local",
        "environment": compose_environment(service),
        "ports": [f"127.0.0.1:{port}:{port}"],
        "read_only": True,
        "tmpfs": ["/tmp"],  # noqa: S108 - the only writable path of a service
        "security_opt": ["no-new-privileges:true"],
        "cap_drop": ["ALL"],
        "healthcheck": _healthcheck(_python_probe(f"http://127.0.0.1:{port}/health/live"), "20s"),
        "stop_grace_period": "25s",
        "depends_on": {
            "aws": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            # A one-shot container is never "healthy": it completes.
            "bootstrap": {"condition": "service_completed_successfully"},
        },
    }


def compose_document(fleet: Fleet) -> dict[str, Any]:
    services: dict[str, Any] = {
        "redis": {
            "image": REDIS_IMAGE,
            "command": ["redis-server", "--save", "", "--appendonly", "no"],
            "healthcheck": _healthcheck(["CMD", "redis-cli", "ping"]),
        },
        "aws": {
            "build": _dev_build(),
            "image": DEV_IMAGE,
            "command": [
                "python",
                "-m",
                "mindlinks_dev.motoserver",
                "-H",
                "0.0.0.0",  # noqa: S104 - inside the container, published on loopback only
                "-p",
                str(MOTO_PORT),
            ],
            "environment": {"MOTO_ALLOW_NONEXISTENT_REGION": "false"},
            "ports": [f"127.0.0.1:{MOTO_PORT}:{MOTO_PORT}"],
            "healthcheck": _healthcheck(_python_probe(f"http://127.0.0.1:{MOTO_PORT}/moto-api/")),
        },
        "bootstrap": {
            "build": _dev_build(),
            "image": DEV_IMAGE,
            "command": [
                "python",
                "-m",
                "mindlinks_dev.deploy.bootstrap_cli",
                "--endpoint",
                f"http://aws:{MOTO_PORT}",
                "--prefix",
                COMPOSE_PREFIX,
                "--region",
                AWS_REGION,
            ],
            "restart": "no",
            "depends_on": {"aws": {"condition": "service_healthy"}},
        },
    }
    for service in built(fleet):
        services[service.name] = service_block(service)
    services["edge"] = {
        "build": _dev_build(),
        "image": DEV_IMAGE,
        "command": [
            "uvicorn",
            "--factory",
            "mindlinks_dev.edge:from_environment",
            "--host",
            "0.0.0.0",  # noqa: S104 - inside its container
            "--port",
            str(EDGE_PORT),
        ],
        "environment": {
            "MINDLINKS_EDGE_SERVICES": ",".join(s.name for s in built(fleet)),
            "MINDLINKS_EDGE_PUBLIC_URL": COMPOSE_PUBLIC_URL,
            "MINDLINKS_PEER_URL_TEMPLATE": PEER_URL_TEMPLATES["compose"],
        },
        "ports": [f"{EDGE_PORT}:{EDGE_PORT}"],
        "read_only": True,
        "tmpfs": ["/tmp"],  # noqa: S108
        "healthcheck": _healthcheck(_python_probe(f"http://127.0.0.1:{EDGE_PORT}/health/ready")),
        "depends_on": {s.name: {"condition": "service_healthy"} for s in built(fleet)},
    }
    return {"name": "mindlinks", "services": services}


_PLAIN = re.compile(r"[A-Za-z_/.][A-Za-z0-9_./-]*")
_KEYWORDS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n"})


def _scalar(value: object) -> str:
    """A YAML scalar: plain when unambiguous, else a double-quoted string
    (JSON's escaping is YAML's); so no port or number is read as anything else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict | list):
        return "{}" if isinstance(value, dict) else "[]"
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _KEYWORDS:
        return text
    return json.dumps(text)


def _yaml(value: object, depth: int = 0) -> list[str]:
    """Block-style YAML, keys in the given order, lists indented under their key."""
    pad = "  " * depth
    lines: list[str] = []
    items = value.items() if isinstance(value, dict) else ((None, item) for item in value)  # type: ignore[attr-defined]
    for key, item in items:
        head = f"{pad}{key}:" if key is not None else f"{pad}-"
        if isinstance(item, dict | list) and item:
            nested = _yaml(item, depth + 1)
            if key is None and isinstance(item, dict):
                lines.append(f"{head} {nested[0].lstrip()}")
                lines += nested[1:]
            else:
                lines.append(head)
                lines += nested
        else:
            lines.append(f"{head} {_scalar(item)}")
    return lines


def render(fleet: Fleet = FLEET) -> str:
    return HEADER + "\n" + "\n".join(_yaml(compose_document(fleet))) + "\n"


def _healthchecked(block: Any, path: str) -> bool:
    test = block.get("healthcheck", {}).get("test", []) if isinstance(block, dict) else []
    return bool(test) and (path in " ".join(map(str, test)))


def problems(document: Any, fleet: Fleet = FLEET) -> list[str]:
    """What a compose file must do for the fleet (a parsed document)."""
    found: list[str] = []
    services = document.get("services", {}) if isinstance(document, dict) else {}
    for name in ("redis", "aws", "bootstrap", "edge"):
        if name not in services:
            found.append(f"{name}: missing")
    for name, path in (("redis", "ping"), ("aws", "/moto-api/"), ("edge", "/health/ready")):
        if name in services and not _healthchecked(services[name], path):
            found.append(f"{name}: no healthcheck")
    for service in built(fleet):
        block = services.get(service.name)
        if not isinstance(block, dict):
            found.append(f"{service.name}: missing")
            continue
        build = block.get("build", {})
        args = build.get("args", {})
        if build.get("dockerfile") != DOCKERFILE or args != {
            "SERVICE": service.name,
            "PORT": str(service.port),
        }:
            found.append(f"{service.name}: not built from {DOCKERFILE} with its SERVICE and PORT")
        if not _healthchecked(block, f":{service.port}/health/live"):
            found.append(f"{service.name}: no healthcheck on /health/live")
        depends = block.get("depends_on", {})
        wanted = {
            "aws": "service_healthy",
            "redis": "service_healthy",
            "bootstrap": "service_completed_successfully",
        }
        for dependency, condition in wanted.items():
            if depends.get(dependency, {}).get("condition") != condition:
                found.append(f"{service.name}: does not wait for {dependency} ({condition})")
        if block.get("environment") != compose_environment(service):
            found.append(
                f"{service.name}: environment differs from environment.compose_environment"
            )
    edge = services.get("edge", {})
    if f"{EDGE_PORT}:{EDGE_PORT}" not in edge.get("ports", []):
        found.append(f"edge: not published on {EDGE_PORT}")
    for service in built(fleet):
        condition = edge.get("depends_on", {}).get(service.name, {}).get("condition")
        if condition != "service_healthy":
            found.append(f"edge: does not wait for {service.name}")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    return artifact_main("mindlinks_dev.deploy.compose", PATH, render, argv)


if __name__ == "__main__":
    raise SystemExit(main())
