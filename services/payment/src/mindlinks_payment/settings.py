"""Payment settings: the shared ones plus Stripe."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, model_validator

from mindlinks_kit.settings import ServiceSettings

LOCAL_WEBHOOK_SECRET = "whsec_local_development_only"  # noqa: S105 - refused outside local


class Settings(ServiceSettings):
    development_secrets: ClassVar[dict[str, str]] = {
        **ServiceSettings.development_secrets,
        "stripe_webhook_secret": LOCAL_WEBHOOK_SECRET,
    }

    stripe_api_key: SecretStr | None = None
    """Set → Stripe (test or live keys); unset (local only) → the local provider."""
    stripe_webhook_secret: SecretStr | None = None
    """The ``whsec_...`` signing secret of the webhook endpoint (required with a key)."""
    stripe_timeout_seconds: float = 30.0
    stripe_max_network_retries: int = 2
    """Stripe SDK retries (5xx, 409, network) — always with the same Idempotency-Key."""
    webhook_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    """How far a webhook's signed timestamp may be from our clock: behind (the
    replay window) or ahead (clock skew). Never 0: Stripe's SDK reads 0 as "no
    age check"."""
    webhook_event_retention_seconds: int = 30 * 24 * 3600
    """How long processed Stripe event ids are remembered (Stripe retries for 3 days)."""
    payout_onboarding_return_path: str = "/payouts/onboarding/complete"
    payout_onboarding_refresh_path: str = "/payouts/onboarding/refresh"
    """Dashboard pages (on ``public_base_url``) Stripe's onboarding returns to."""
    transfer_window_days: int = Field(default=90, ge=3, le=730)
    """How long after its charge an item's transfer still names the charge as
    its ``source_transaction``; a review period ends two days before it
    (docs/lifecycle.md, "Stripe's limits")."""
    local_webhook_url: str | None = None
    """Where the local provider delivers its signed webhooks; default: this
    process on loopback (``http://127.0.0.1:<port + port_offset>``)."""

    @model_validator(mode="after")
    def _stripe_is_configured_when_deployed(self) -> Settings:
        if not self.local_mode and self.stripe_api_key is None:
            raise ValueError("MINDLINKS_STRIPE_API_KEY must be set outside local mode")
        if self.stripe_api_key is not None and self.stripe_webhook_secret is None:
            raise ValueError("MINDLINKS_STRIPE_WEBHOOK_SECRET must be set with a Stripe key")
        return self

    @property
    def webhook_secret(self) -> str:
        if self.stripe_webhook_secret is not None:
            return self.stripe_webhook_secret.get_secret_value()
        return LOCAL_WEBHOOK_SECRET
