"""What each service process reads, in compose and on ECS, decided once.

Both targets set the same ``MINDLINKS_*`` variables (see ``ServiceSettings``),
except the few listed in ``COMPOSE_ONLY`` (the emulated AWS endpoint, the local
mailbox) and ``AWS_ONLY`` (the ADOT collector, the outside providers' keys,
which compose leaves unset so the local providers run). On ECS the values that
differ per environment come from Terraform variables (``PLATFORM``) and
secrets come from Secrets Manager (``secrets``), never from the image.
"""

from __future__ import annotations

import importlib
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Literal

from pydantic import SecretStr

from mindlinks_kit.declaration import Service
from mindlinks_kit.settings import ServiceSettings

Target = Literal["compose", "aws"]
SERVICES_GROUP = "mindlinks.services"
COMPOSE_PREFIX = "mindlinks-local-"
COMPOSE_AWS = "http://aws:5000"
COMPOSE_REDIS = "redis://redis:6379/0"
COMPOSE_PUBLIC_URL = "http://localhost:8080"
AWS_REGION = "eu-west-1"

PEER_URL_TEMPLATES: dict[Target, str] = {
    "compose": "http://{name}:{port}",
    "aws": "http://{name}.mindlinks.internal:{port}",
}

PLATFORM = (
    "MINDLINKS_ENVIRONMENT",
    "MINDLINKS_RESOURCE_PREFIX",
    "MINDLINKS_AWS_REGION",
    "MINDLINKS_PUBLIC_BASE_URL",
    "MINDLINKS_VERSION",
    "MINDLINKS_LOG_LEVEL",
    "MINDLINKS_OTEL_EXPORTER_ENDPOINT",
)
"""Set on ECS by the ecs-service module from environment variables of the
Terraform root (``locals.platform_environment``); a test keeps the two equal."""

COMPOSE_ONLY = frozenset({"MINDLINKS_AWS_ENDPOINT_URL", "MINDLINKS_MAILBOX_DIR"})
AWS_ONLY = frozenset({"MINDLINKS_OTEL_EXPORTER_ENDPOINT"})

TRUSTED_PROXY_HOPS: dict[Target, str] = {"compose": "1", "aws": "2"}
"""Proxies appending to ``X-Forwarded-For`` in front of auth: the local edge in
compose; API Gateway and the ALB on AWS."""
CLIENT_ADDRESS_READERS = ("auth", "signature")
"""Services that act on the caller's address: auth throttles sign-ins by it;
signature limits the public verify-by-upload by it (and records it as a
signer's evidence). Behind the proxies, the socket peer is the ALB."""

SecretKind = Literal["cursor", "redis", "provider"]


@dataclass(frozen=True)
class ServiceEnvironment:
    static: dict[str, str]
    """Values that are the same in every environment of the target."""
    secrets: dict[str, SecretKind]
    """Variable → where its value lives (on ECS: a Secrets Manager secret)."""


def settings_class(service: str) -> type[ServiceSettings]:
    """The service's ``Settings`` (``mindlinks_<name>.settings``) when the
    service is installed and has one, else the shared ``ServiceSettings``."""
    for entry in entry_points(group=SERVICES_GROUP):
        if entry.name != service:
            continue
        package = entry.module.split(".")[0]
        try:
            module = importlib.import_module(f"{package}.settings")
        except ModuleNotFoundError:
            return ServiceSettings
        found = getattr(module, "Settings", None)
        if isinstance(found, type) and issubclass(found, ServiceSettings):
            return found
    return ServiceSettings


def _is_secret(annotation: object) -> bool:
    if annotation is SecretStr:
        return True
    return any(_is_secret(arg) for arg in typing.get_args(annotation))


def provider_secrets(settings: type[ServiceSettings]) -> tuple[str, ...]:
    """``MINDLINKS_*`` names of the service's own optional secret settings
    (outside providers' keys: unset means the local provider). On ECS an
    environment picks the ones it sets (``provider_secrets`` in its
    terraform.tfvars, e.g. Veriff's or Onfido's) and they come from the
    service's config secret."""
    shared = set(ServiceSettings.model_fields)
    return tuple(
        sorted(
            f"MINDLINKS_{name.upper()}"
            for name, field in settings.model_fields.items()
            if name not in shared and _is_secret(field.annotation) and field.default is None
        )
    )


def settings_variables(settings: type[ServiceSettings]) -> frozenset[str]:
    """Every ``MINDLINKS_*`` variable the settings class reads."""
    return frozenset(f"MINDLINKS_{name.upper()}" for name in settings.model_fields)


def service_environment(service: Service, target: Target) -> ServiceEnvironment:
    """The environment-independent part of what ``service`` reads on ``target``
    (an environment adds its providers' secrets and settings)."""
    static = {"MINDLINKS_PEER_URL_TEMPLATE": PEER_URL_TEMPLATES[target]}
    if service.name in CLIENT_ADDRESS_READERS:
        static["MINDLINKS_TRUSTED_PROXY_HOPS"] = TRUSTED_PROXY_HOPS[target]
    kinds: dict[str, SecretKind] = {"MINDLINKS_CURSOR_SECRET": "cursor"}
    if service.redis:
        kinds["MINDLINKS_REDIS_URL"] = "redis"
    return ServiceEnvironment(static=static, secrets=kinds)


def compose_environment(service: Service) -> dict[str, str]:
    """A service's whole environment in docker-compose.yml."""
    env = service_environment(service, "compose")
    values: dict[str, str] = {
        "MINDLINKS_ENVIRONMENT": "local",
        "MINDLINKS_RESOURCE_PREFIX": COMPOSE_PREFIX,
        "MINDLINKS_AWS_REGION": AWS_REGION,
        "MINDLINKS_AWS_ENDPOINT_URL": COMPOSE_AWS,
        "MINDLINKS_PUBLIC_BASE_URL": COMPOSE_PUBLIC_URL,
        "MINDLINKS_VERSION": "local",
        "MINDLINKS_LOG_LEVEL": "INFO",
        **env.static,
    }
    if "MINDLINKS_MAILBOX_DIR" in settings_variables(settings_class(service.name)):
        values["MINDLINKS_MAILBOX_DIR"] = "/tmp/mailbox"  # noqa: S108 - the container's tmpfs
    secret_values: Mapping[SecretKind, str] = {
        "cursor": "${MINDLINKS_CURSOR_SECRET:?set MINDLINKS_CURSOR_SECRET to a random string}",
        "redis": COMPOSE_REDIS,
    }
    for name, kind in env.secrets.items():
        values[name] = secret_values[kind]
    values.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": AWS_REGION,
        }
    )
    return dict(sorted(values.items()))
