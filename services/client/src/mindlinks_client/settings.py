"""Client settings: the shared ones plus the business registry and invitations."""

from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr, model_validator

from mindlinks_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    public_urls: ClassVar[tuple[str, ...]] = (
        *ServiceSettings.public_urls,
        "opencorporates_base_url",
    )

    opencorporates_api_token: SecretStr | None = None
    """Set → companies are checked against OpenCorporates; unset (local only) →
    the local registry answers from fixtures (``providers/fixtures.py``)."""
    opencorporates_base_url: str = "https://api.opencorporates.com/v0.4"
    opencorporates_timeout_seconds: float = 5.0
    invitation_ttl_seconds: int = 7 * 24 * 3600
    """How long an invitation's token can be redeemed."""
    invitation_retention_seconds: int = 30 * 24 * 3600
    """How long an expired or revoked invitation is kept before DynamoDB's TTL
    purges it (accepted ones are kept: they record the engagement)."""

    @model_validator(mode="after")
    def _registry_needs_a_token_when_deployed(self) -> Settings:
        if not self.local_mode and self.opencorporates_api_token is None:
            raise ValueError("MINDLINKS_OPENCORPORATES_API_TOKEN must be set outside local mode")
        return self
