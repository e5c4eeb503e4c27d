"""Every deployed environment satisfies the settings' rules outside local mode
(each service's settings accept what Terraform gives its ECS task), and a
refused setting ends the real entrypoint with one line, not a traceback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mindlinks_dev.deploy import terraform
from mindlinks_dev.deploy.checks import Tree, locals_of
from mindlinks_dev.deploy.environment import settings_class
from mindlinks_fleet import FLEET
from mindlinks_kit.settings import EX_CONFIG

ENVIRONMENTS = ("dev", "staging", "prod")
REGION = "eu-west-1"


def _secret_length(terraform_root: Path, file: str, name: str) -> int:
    text = (terraform_root / file).read_text(encoding="utf-8")
    found = re.search(rf'"random_password" "{name}" {{\s*length\s*=\s*(\d+)', text)
    assert found, f"random_password.{name} in {file}"
    return int(found.group(1))


def _redis_url(terraform_root: Path) -> str:
    """The URL the data module writes into the redis-url secret, with a token
    as long as the one it generates."""
    text = (terraform_root / "modules/data/redis.tf").read_text(encoding="utf-8")
    template = re.search(r'secret_string_wo\s*=\s*"(rediss://[^"]+)"', text)
    assert template, "the redis-url secret's value in modules/data/redis.tf"
    token = "t" * _secret_length(terraform_root, "modules/data/redis.tf", "redis")
    url = template.group(1).replace("${random_password.redis.result}", token)
    return url.replace(
        "${aws_elasticache_replication_group.this.primary_endpoint_address}",
        "master.mindlinks-prod-redis.abc123.euw1.cache.amazonaws.com",
    )


def ecs_environment(
    root: Path, tree: Tree, terraform_root: Path, env: str, service: str
) -> dict[str, str]:
    """What the ecs-service module gives ``service``'s container in ``env``:
    the platform's values, the generated ones, the environment's own, and
    secrets shaped as Terraform generates them."""
    variables = tree[terraform_root / "envs" / env / "terraform.tfvars"]

    def resolve(value: str) -> str:
        value = value.replace("${data.aws_region.current.region}", REGION)
        return re.sub(r"\$\{var\.(\w+)\}", lambda m: str(variables[m.group(1)]), value)

    platform = locals_of(tree, terraform_root / "platform")["platform_environment"]
    fleet = json.loads((root / terraform.PATH).read_text(encoding="utf-8"))
    entry = fleet["services"][service]
    values = {name: resolve(value) for name, value in platform.items()}
    values["MINDLINKS_VERSION"] = "sha-0123456"
    values.update(entry["environment"])
    values.update(variables.get("service_environment", {}).get(service, {}))
    secrets = {
        "cursor": "c" * _secret_length(terraform_root, "modules/security/secrets.tf", "cursor"),
        "redis": _redis_url(terraform_root),
    }
    for name, kind in entry["secrets"].items():
        values[name] = secrets[kind]
    for name in variables.get("provider_secrets", {}).get(service, []):
        values[name] = f"{name.lower()}-value-from-the-config-secret"
    return values


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what Terraform sets: not the test session's MINDLINKS_* values."""
    for name in list(os.environ):
        if name.startswith("MINDLINKS_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_deployed_environment_passes_the_settings_rules(
    root: Path,
    tree: Tree,
    terraform_root: Path,
    env: str,
    clean_environment: None,
) -> None:
    for service in FLEET.services:
        values = ecs_environment(root, tree, terraform_root, env, service.name)
        with pytest.MonkeyPatch.context() as patch:
            for name, value in values.items():
                patch.setenv(name, value)
            settings = settings_class(service.name)()
        assert not settings.local_mode, service.name
        assert settings.uses_redis == service.redis, service.name


def _start(service: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The image's command (uvicorn --factory) with nothing but ``environment``."""
    command = [sys.executable, "-m", "uvicorn", "--factory", f"mindlinks_{service}.app:create"]
    command += ["--port", "0"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDLINKS_")}
    return subprocess.run(
        command, env={**env, **environment}, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("service", "change", "line"),
    [
        (
            "auth",
            {"MINDLINKS_CURSOR_SECRET": "only-20-bytes-secret"},
            "MINDLINKS_CURSOR_SECRET must be at least 32 bytes outside local mode",
        ),
        (
            "payment",
            {"MINDLINKS_PUBLIC_BASE_URL": "http://localhost:8080"},
            "MINDLINKS_PUBLIC_BASE_URL must be an https:// URL on a public host outside local mode",
        ),
        (
            "notification",
            {"MINDLINKS_REDIS_URL": "redis://redis.internal:6379/0"},
            "MINDLINKS_REDIS_URL must be rediss:// (TLS) with a password outside local mode",
        ),
        (
            "kyc",
            {"MINDLINKS_VERIFF_SHARED_SECRET": "local-kyc-webhook-secret"},
            "MINDLINKS_VERIFF_SHARED_SECRET must be set (not the development value) "
            "outside local mode",
        ),
    ],
)
def test_a_refused_setting_stops_the_process_with_one_line(
    root: Path,
    tree: Tree,
    terraform_root: Path,
    service: str,
    change: dict[str, str],
    line: str,
) -> None:
    environment: dict[str, Any] = ecs_environment(root, tree, terraform_root, "prod", service)
    ended = _start(service, {**environment, **change})
    assert ended.returncode == EX_CONFIG, ended.stderr
    assert ended.stderr == f"invalid configuration: {line}\n"
    assert ended.stdout == ""
