"""The edge's configuration."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The three dashboards' dev servers (3001-3011 are the services' own ports).
DEFAULT_ORIGINS = ("http://localhost:3000", "http://localhost:3100", "http://localhost:3200")


def split_names(value: str) -> list[str]:
    """``"a, b,"`` → ``["a", "b"]``."""
    return [part.strip() for part in value.split(",") if part.strip()]


class EdgeSettings(BaseSettings):
    """The edge's configuration, from ``MINDLINKS_EDGE_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="MINDLINKS_EDGE_", extra="ignore")

    services: Annotated[list[str] | None, NoDecode] = None
    """Comma-separated services behind the edge; unset: the whole fleet."""
    cors_origins: Annotated[list[str], NoDecode] = list(DEFAULT_ORIGINS)
    rate_per_second: float = 20.0
    """Per client IP; 0 turns rate limiting off."""
    burst: int = 40
    public_url: str = "http://localhost:8080"
    timeout_seconds: float = 29.0
    """API Gateway's integration timeout."""
    max_body_bytes: int = 10 * 1024 * 1024
    """API Gateway's payload limit."""
    peer_url_template: str = Field(
        "http://127.0.0.1:{port}", validation_alias="MINDLINKS_PEER_URL_TEMPLATE"
    )
    port_offset: int = Field(0, validation_alias="MINDLINKS_PORT_OFFSET")
    access_log: bool = True
    """A line per answered request on standard output, as uvicorn's would be."""

    @field_validator("services", "cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return split_names(value) if isinstance(value, str) else value
