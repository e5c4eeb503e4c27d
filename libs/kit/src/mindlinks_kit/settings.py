"""Settings every service shares, read from the environment (pydantic-settings).

Defaults are the local embedded ones; outside local/test environments the
settings refuse development secrets and missing endpoints.
"""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["local", "test", "dev", "staging", "prod"]
LOCAL_ENVIRONMENTS = ("local", "test")
DEV_SECRET = "local-development-only-secret"  # noqa: S105 - refused outside local


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MINDLINKS_", extra="ignore")

    environment: Environment = "local"
    version: str = "0.1.0"
    resource_prefix: str = "mindlinks-local-"
    """Prefix of every physical AWS resource name (tables, queues, buckets, secrets)."""

    aws_region: str = "eu-west-1"
    aws_endpoint_url: str | None = None
    """Set locally (the embedded moto server); unset on AWS."""

    redis_url: str = "redis://127.0.0.1:6379/0"
    peer_url_template: str = "http://127.0.0.1:{port}"
    """Discovery: AWS ``http://{name}.mindlinks.internal:{port}``, compose ``http://{name}:{port}``."""

    port_offset: int = 0
    """Added to every declared port (local only: lets a second fleet, e.g. the
    end-to-end suite's, run beside a developer's ``make run``)."""
    public_base_url: str = "http://localhost:8080"
    """Where links in emails point (the dashboards' origin in deployed environments)."""

    jwt_issuer: str = "https://api.mindlinks.com"
    jwt_audience: str = "mindlinks-api"
    access_token_ttl_seconds: int = 900
    service_token_ttl_seconds: int = 300
    service_secret: SecretStr | None = None
    """This service's credential for minting service tokens; read from Secrets
    Manager (``<prefix>service/<name>``) when not given."""
    cursor_secret: SecretStr = SecretStr(DEV_SECRET)

    http_timeout_seconds: float = 5.0
    http_attempts: int = 3
    breaker_fail_max: int = 5
    breaker_reset_seconds: float = 30.0

    background_workers: bool = True
    """Run the outbox relay and the queue consumer as background tasks; tests
    turn them off and move events deterministically (``Running.deliver``)."""
    relay_interval_seconds: float = 5.0
    revocation_refresh_seconds: float = 2.0
    """How often each task reloads the revoked subjects its service recorded."""
    revocation_retention_seconds: int = 3600
    """How long a revocation is kept: longer than any access token lives."""
    otel_exporter_endpoint: str | None = None
    log_level: str = "INFO"
    trusted_proxy_hops: int = 0
    """Proxies in front of the service that append to ``X-Forwarded-For``
    (local edge: 1; API Gateway + ALB: 2). 0 trusts only the socket peer."""

    @property
    def local_mode(self) -> bool:
        return self.environment in LOCAL_ENVIRONMENTS

    @model_validator(mode="after")
    def _refuse_dev_defaults_when_deployed(self) -> ServiceSettings:
        if not self.local_mode and self.cursor_secret.get_secret_value() == DEV_SECRET:
            raise ValueError("MINDLINKS_CURSOR_SECRET must be set outside local environments")
        if not self.local_mode and self.port_offset:
            raise ValueError("MINDLINKS_PORT_OFFSET is for local environments only")
        if not self.local_mode and self.aws_endpoint_url:
            raise ValueError("MINDLINKS_AWS_ENDPOINT_URL is for local environments only")
        return self

    def physical(self, name: str) -> str:
        return f"{self.resource_prefix}{name}"
