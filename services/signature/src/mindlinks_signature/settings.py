"""Signature settings: the shared ones, the seal's and the public verification's."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator

from mindlinks_kit.settings import ServiceSettings

SEAL_CERTIFICATES_SECRET = "signature/seal-certificates"  # noqa: S105 - a secret's name
"""The seal key's certificate chain and trust roots (``signing_keys=("seal",)``)."""


class Settings(ServiceSettings):
    uses_redis: ClassVar[bool] = True
    document_timeout_seconds: float = 15.0
    """Deadline of the final document's upload to the contract service."""
    seal_key_id: str | None = None
    """The KMS key that seals final documents; default ``alias/<prefix>signature-seal``."""
    seal_timestamp_url: str | None = None
    """The RFC 3161 time-stamp authority. Required outside local mode; locally
    this service's own ``/v1/signatures/dev/timestamps``."""
    seal_timestamp_timeout_seconds: float = Field(default=10.0, gt=0)
    verify_max_pdf_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    """The largest upload ``POST /v1/signatures/verify`` reads (the contract
    service's limit on stored documents, plus the seal)."""
    verify_per_address: int = Field(default=10, ge=1)
    verify_window_seconds: int = Field(default=60, ge=1)
    """At most ``verify_per_address`` uploads per address in each window."""

    @property
    def seal_key(self) -> str:
        return self.seal_key_id or f"alias/{self.resource_prefix}signature-seal"

    @model_validator(mode="after")
    def _timestamp_authority_when_deployed(self) -> Settings:
        if not self.local_mode and not self.seal_timestamp_url:
            raise ValueError("MINDLINKS_SEAL_TIMESTAMP_URL must be set outside local mode")
        return self
