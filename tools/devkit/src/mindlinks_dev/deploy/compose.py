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

from collections.abc import Sequence
from typing import Any

import yaml

from mindlinks_dev.deploy.artifact import main as artifact_main
from mindlinks_dev.deploy.environment import (
    AWS_REGION,
    COMPOSE_PREFIX,
    COMPOSE_PUBLIC_URL,
    PEER_URL_TEMPLATES,
    compose_environment,
)
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
    return ["CMD", "python", "-c", f"import urllib.request; urllib.request.urlopen('{url}', timeout=3)"]


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
            "command": ["python", "-m", "moto.server", "-H", "0.0.0.0", "-p", str(MOTO_PORT)],
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
    for service in fleet.services:
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
            "MINDLINKS_EDGE_SERVICES": ",".join(s.name for s in fleet.services),
            "MINDLINKS_EDGE_PUBLIC_URL": COMPOSE_PUBLIC_URL,
            "MINDLINKS_PEER_URL_TEMPLATE": PEER_URL_TEMPLATES["compose"],
        },
        "ports": [f"{EDGE_PORT}:{EDGE_PORT}"],
        "read_only": True,
        "tmpfs": ["/tmp"],  # noqa: S108
        "healthcheck": _healthcheck(_python_probe(f"http://127.0.0.1:{EDGE_PORT}/health/live")),
        "depends_on": {s.name: {"condition": "service_healthy"} for s in fleet.services},
    }
    return {"name": "mindlinks", "services": services}


class _Dumper(yaml.SafeDumper):
    """Block style, keys in the given order, lists indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def render(fleet: Fleet = FLEET) -> str:
    body = yaml.dump(
        compose_document(fleet),
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        width=100,
    )
    return HEADER + "\n" + body


def main(argv: Sequence[str] | None = None) -> int:
    return artifact_main("mindlinks_dev.deploy.compose", PATH, render, argv)


if __name__ == "__main__":
    raise SystemExit(main())
