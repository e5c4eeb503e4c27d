"""KYC settings: the shared ones plus the identity providers and the policies."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, SecretStr, model_validator

from mindlinks_kit.settings import ServiceSettings

LOCAL_WEBHOOK_SECRET = "local-kyc-webhook-secret"  # noqa: S105 - local mode only


class Settings(ServiceSettings):
    public_urls: ClassVar[tuple[str, ...]] = (
        *ServiceSettings.public_urls,
        "veriff_base_url",
        "onfido_base_url",
        "return_url",
    )
    development_secrets: ClassVar[dict[str, str]] = {
        **ServiceSettings.development_secrets,
        "veriff_shared_secret": LOCAL_WEBHOOK_SECRET,
        "onfido_webhook_token": LOCAL_WEBHOOK_SECRET,
    }

    kyc_provider: Literal["veriff", "onfido"] = "veriff"
    """The provider new sessions are opened with (both webhooks stay served when
    both are configured, so sessions opened before a switch still finish)."""

    veriff_api_key: SecretStr | None = None
    veriff_shared_secret: SecretStr | None = None
    """Both set → Veriff; both unset (local only) → the local provider."""
    veriff_base_url: str = "https://stationapi.veriff.com"

    onfido_api_token: SecretStr | None = None
    onfido_webhook_token: SecretStr | None = None
    onfido_workflow_id: str | None = None
    """The Onfido Studio workflow each run follows."""
    onfido_base_url: str = "https://api.eu.onfido.com"
    """``https://api.us.onfido.com`` / ``https://api.ca.onfido.com`` for other regions."""

    local_webhook_secret: SecretStr = SecretStr(LOCAL_WEBHOOK_SECRET)
    """The local provider signs its Veriff-style webhooks with this (local mode)."""

    return_url: str | None = None
    """Where the provider sends the contractor's browser after the flow; default
    ``<public_base_url>/kyc/complete`` (the contractor dashboard)."""
    provider_timeout_seconds: float = 10.0
    session_ttl_seconds: int = 7 * 24 * 3600
    """An undecided session older than this is expired (Veriff's session lifetime)."""
    webhook_max_age_seconds: int = Field(default=24 * 3600, ge=60)
    """A decision whose decision time is older than this is refused as a replay."""
    webhook_clock_skew_seconds: int = Field(default=300, ge=0, le=3600)
    """A decision whose decision time is further than this ahead of our clock is
    refused (an undated decision is always refused)."""
    upload_expiry_seconds: int = 600
    max_document_bytes: int = 10 * 1024 * 1024
    max_documents_per_session: int = 20

    @property
    def veriff_configured(self) -> bool:
        return self.veriff_api_key is not None and self.veriff_shared_secret is not None

    @property
    def onfido_configured(self) -> bool:
        return self.onfido_api_token is not None and self.onfido_webhook_token is not None

    @property
    def completed_url(self) -> str:
        return self.return_url or self.public_base_url.rstrip("/") + "/kyc/complete"

    @model_validator(mode="after")
    def _providers_are_complete(self) -> Settings:
        if (self.veriff_api_key is None) != (self.veriff_shared_secret is None):
            raise ValueError("set both MINDLINKS_VERIFF_API_KEY and MINDLINKS_VERIFF_SHARED_SECRET")
        if (self.onfido_api_token is None) != (self.onfido_webhook_token is None):
            raise ValueError(
                "set both MINDLINKS_ONFIDO_API_TOKEN and MINDLINKS_ONFIDO_WEBHOOK_TOKEN"
            )
        if self.onfido_configured and not self.onfido_workflow_id:
            raise ValueError("MINDLINKS_ONFIDO_WORKFLOW_ID must be set with the Onfido token")
        if self.local_mode:
            return self
        if self.kyc_provider == "veriff" and not self.veriff_configured:
            raise ValueError(
                "MINDLINKS_VERIFF_API_KEY and MINDLINKS_VERIFF_SHARED_SECRET must be set "
                "outside local mode"
            )
        if self.kyc_provider == "onfido" and not self.onfido_configured:
            raise ValueError(
                "MINDLINKS_ONFIDO_API_TOKEN and MINDLINKS_ONFIDO_WEBHOOK_TOKEN must be set "
                "outside local mode"
            )
        return self
