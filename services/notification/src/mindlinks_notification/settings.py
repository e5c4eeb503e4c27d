"""Notification settings: the shared ones plus mail delivery."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, model_validator

from mindlinks_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    uses_redis: ClassVar[bool] = True
    public_urls: ClassVar[tuple[str, ...]] = (*ServiceSettings.public_urls, "sendgrid_base_url")

    sendgrid_api_key: SecretStr | None = None
    """Set → mail goes out through SendGrid; unset (local only) → the local mailbox."""
    sendgrid_base_url: str = "https://api.sendgrid.com"
    """``https://api.eu.sendgrid.com`` for EU data residency."""
    mail_from_email: str = "no-reply@mindlinks.com"
    mail_from_name: str = "Mind-Links"
    mail_timeout_seconds: float = 10.0
    mailbox_dir: Path = Path(".run/mailbox")
    """Where the local mailbox writes each mail as a JSON file (local mode)."""
    dedupe_ttl_seconds: int = 7 * 24 * 3600
    """How long a dedupe key (or an event id) suppresses a second email."""
    template_cache_seconds: float = 60.0
    recipient_cache_seconds: float = 30.0
    """How long a recipient's address and opt-ins, once read from the user
    service, serve later events: ``user.updated`` forgets them at once on the
    task that handles it, so this bounds how late another task sees a change."""

    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=15)
    """A webhook attempt's whole budget (connecting: at most 5 s of it). At
    most 15 s: an attempt's claim (this plus 10 s) must expire within the
    queue's retries of its firing (30 s)."""
    data_key_id: str | None = None
    """The KMS key that encrypts webhook secrets (default: the fleet's data key)."""

    @property
    def data_key(self) -> str:
        return self.data_key_id or f"alias/{self.resource_prefix}data"

    @model_validator(mode="after")
    def _mail_needs_a_provider_when_deployed(self) -> Settings:
        if not self.local_mode and self.sendgrid_api_key is None:
            raise ValueError("MINDLINKS_SENDGRID_API_KEY must be set outside local mode")
        return self
