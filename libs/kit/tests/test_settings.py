"""Outside local mode the shared settings refuse, with one sentence naming the
variable, every value that only makes sense on a developer's machine."""

from __future__ import annotations

import os
from typing import Any, ClassVar

import pytest
from pydantic import ValidationError

from mindlinks_kit.settings import (
    DEV_SECRET,
    EX_CONFIG,
    ServiceSettings,
    from_environment,
    is_local_host,
)

DEPLOYED: dict[str, Any] = {
    "environment": "prod",
    "resource_prefix": "mindlinks-prod-",
    "cursor_secret": "c" * 64,
    "public_base_url": "https://app.mindlinks.com",
    "peer_url_template": "http://{name}.mindlinks.internal:{port}",
    "redis_url": "rediss://:a-64-character-auth-token@master.redis.internal:6379/0",
    "otel_exporter_endpoint": "http://127.0.0.1:4318",  # the ADOT sidecar: fine
}
PUBLIC_URL = "MINDLINKS_PUBLIC_BASE_URL must be an https:// URL on a public host outside local mode"
PEERS = "MINDLINKS_PEER_URL_TEMPLATE must name another host outside local mode"
REDIS = "MINDLINKS_REDIS_URL must be rediss:// (TLS) with a password outside local mode"
REFUSED: list[tuple[dict[str, Any], str]] = [
    (
        {"cursor_secret": DEV_SECRET},
        "MINDLINKS_CURSOR_SECRET must be set (not the development value) outside local mode",
    ),
    (
        {"cursor_secret": "s" * 31},
        "MINDLINKS_CURSOR_SECRET must be at least 32 bytes outside local mode",
    ),
    (
        {"service_secret": "short"},
        "MINDLINKS_SERVICE_SECRET must be at least 32 bytes outside local mode",
    ),
    ({"port_offset": 20000}, "MINDLINKS_PORT_OFFSET is for local mode only"),
    (
        {"aws_endpoint_url": "http://127.0.0.1:5000"},
        "MINDLINKS_AWS_ENDPOINT_URL is for local mode only",
    ),
    ({"public_base_url": "http://app.mindlinks.com"}, PUBLIC_URL),
    ({"public_base_url": "http://localhost:8080"}, PUBLIC_URL),
    ({"public_base_url": "https://localhost:8080"}, PUBLIC_URL),
    ({"public_base_url": "https://app.localhost"}, PUBLIC_URL),
    ({"public_base_url": "https://127.0.0.1"}, PUBLIC_URL),
    ({"public_base_url": "https://10.1.2.3"}, PUBLIC_URL),
    ({"public_base_url": "https://[::1]:8443"}, PUBLIC_URL),
    ({"public_base_url": "https://0.0.0.0"}, PUBLIC_URL),
    ({"public_base_url": "https://[bad"}, PUBLIC_URL),
    ({"public_base_url": "app.mindlinks.com"}, PUBLIC_URL),
    (
        {"resource_prefix": "mindlinks-local-"},
        "MINDLINKS_RESOURCE_PREFIX must not be mindlinks-local- outside local mode",
    ),
    ({"peer_url_template": "http://127.0.0.1:{port}"}, PEERS),
    ({"peer_url_template": "http://localhost:{port}"}, PEERS),
    (
        {"peer_url_template": "http://{host}:{port}"},
        "MINDLINKS_PEER_URL_TEMPLATE must be a URL with only {name} and {port} in braces",
    ),
]


class RedisUser(ServiceSettings):
    uses_redis: ClassVar[bool] = True


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what each test passes: not the test session's MINDLINKS_* values."""
    for name in list(os.environ):
        if name.startswith("MINDLINKS_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_a_deployed_configuration_passes(environment: str) -> None:
    settings = RedisUser(**{**DEPLOYED, "environment": environment})
    assert not settings.local_mode
    assert ServiceSettings(**{**DEPLOYED, "cursor_secret": "é" * 16}).cursor_secret  # 32 bytes


@pytest.mark.parametrize(("change", "message"), REFUSED)
def test_each_local_only_value_is_refused_outside_local_mode(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        ServiceSettings(**{**DEPLOYED, **change})
    [error] = refused.value.errors()
    assert str(error["ctx"]["error"]).startswith(message)
    for environment in ("local", "test"):
        ServiceSettings(**{**DEPLOYED, **change, "environment": environment})


@pytest.mark.parametrize(
    "url",
    [
        "redis://:token@master.redis.internal:6379/0",
        "rediss://master.redis.internal:6379/0",
        "redis://127.0.0.1:6379/0",
        "rediss://:@master.redis.internal:6379/0",
    ],
)
def test_redis_needs_tls_and_a_password_where_it_is_used(url: str) -> None:
    with pytest.raises(ValidationError, match="MINDLINKS_REDIS_URL must be rediss://"):
        RedisUser(**{**DEPLOYED, "redis_url": url})
    ServiceSettings(**{**DEPLOYED, "redis_url": url})  # a service without Redis ignores it
    RedisUser(**{**DEPLOYED, "redis_url": url, "environment": "local"})


def test_local_hosts() -> None:
    local = ["localhost", "LOCALHOST.", "api.localhost", "127.0.0.1", "::1", "[::1]", "10.0.0.1"]
    local += ["192.168.1.1", "169.254.169.254", "0.0.0.0", "fd00::1"]  # noqa: S104
    local += ["127.1", "2130706433", "0x7f.1"]  # what browsers read as 127.0.0.1
    assert all(is_local_host(host) for host in local)
    public = ["app.mindlinks.com", "api.mindlinks.com", "93.184.215.14", "2606:4700::1111"]
    assert not any(is_local_host(host) for host in public)


def test_a_refused_environment_ends_the_process_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in DEPLOYED.items():
        monkeypatch.setenv(f"MINDLINKS_{name.upper()}", str(value))
    assert from_environment(RedisUser).environment == "prod"

    secret = "a-secret-that-is-too-short"
    monkeypatch.setenv("MINDLINKS_CURSOR_SECRET", secret)
    with pytest.raises(SystemExit) as ended:
        from_environment(RedisUser)
    assert ended.value.code == EX_CONFIG
    assert capsys.readouterr().err == (
        "invalid configuration: "
        "MINDLINKS_CURSOR_SECRET must be at least 32 bytes outside local mode\n"
    )

    monkeypatch.setenv("MINDLINKS_PORT_OFFSET", secret)  # a type error never shows the value
    with pytest.raises(SystemExit):
        from_environment(RedisUser)
    err = capsys.readouterr().err
    assert err.startswith("invalid configuration: MINDLINKS_PORT_OFFSET: ")
    assert err.count("\n") == 1
    assert secret not in err
