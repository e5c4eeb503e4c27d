"""What the app refuses and mounts outside local mode."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from mindlinks_notification.app import create
from mindlinks_notification.settings import Settings

DEPLOYED = {
    "cursor_secret": "a-real-secret-from-secrets-manager-0123456789",
    "aws_endpoint_url": None,
    "resource_prefix": "mindlinks-prod-",
    "public_base_url": "https://app.mindlinks.com",
    "peer_url_template": "http://{name}.mindlinks.internal:{port}",
    "redis_url": "rediss://:auth-token@redis.mindlinks.internal:6379/0",
}


def _flatten(routes: list[Any]) -> set[str]:
    """Paths of ``app.routes``, looking inside included routers (FastAPI keeps
    ``include_router`` lazy since 0.16x: an entry wraps the original router)."""
    found = set()
    for route in routes:
        if isinstance(getattr(route, "path", None), str):
            found.add(route.path)
        included = getattr(route, "original_router", None)
        if included is not None:
            found |= _flatten(included.routes)
    return found


def paths(app: FastAPI) -> set[str]:
    return _flatten(app.routes) | set(app.openapi()["paths"])


def test_the_dev_mailbox_is_not_mounted_when_deployed() -> None:
    deployed = create(Settings(environment="dev", sendgrid_api_key="SG.key", **DEPLOYED))
    assert "/v1/notifications/dev/mailbox" not in paths(deployed)
    assert not any(p.startswith("/v1/notifications/dev") for p in paths(deployed))
    assert "/internal/notifications/send" in paths(deployed)

    local = create(Settings(environment="local"))
    assert "/v1/notifications/dev/mailbox" in paths(local)


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_no_deployed_environment_starts_without_sendgrid(environment: str) -> None:
    with pytest.raises(ValidationError, match="MINDLINKS_SENDGRID_API_KEY"):
        Settings(environment=environment, **DEPLOYED)  # type: ignore[arg-type]


def test_deployed_settings_refuse_plain_sendgrid_and_plain_redis() -> None:
    keys: dict[str, Any] = {"environment": "prod", "sendgrid_api_key": "SG.key"}
    with pytest.raises(ValidationError, match="MINDLINKS_SENDGRID_BASE_URL must be an https://"):
        Settings(**keys, **{**DEPLOYED, "sendgrid_base_url": "http://127.0.0.1:3030"})
    with pytest.raises(ValidationError, match=r"MINDLINKS_REDIS_URL must be rediss:// \(TLS\)"):
        Settings(**keys, **{**DEPLOYED, "redis_url": "redis://redis.internal:6379/0"})
