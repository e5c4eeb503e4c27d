"""Ledger settings: the shared ones plus the journal's and the digests' policies."""

from __future__ import annotations

from pydantic import Field

from mindlinks_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    digest_interval_seconds: float = Field(default=300.0, gt=0)
    """How often the background task anchors a digest in the Object Lock bucket
    (only when the journal grew since the last one); every contract activation
    anchors too."""
    digest_cache_seconds: float = Field(default=10.0, ge=0)
    """How old a ``GET /v1/ledger/digest`` answer may be: computed at most once
    per this many seconds per process, shared by every caller."""
    digest_retention_days: int = Field(default=7 * 365 + 2, ge=1)
    """Compliance-mode retention of each digest object (default: seven years)."""
    append_attempts: int = Field(default=25, ge=1)
    """Tries of one append that keeps losing the race for the tip before 503."""
    max_entry_data_bytes: int = Field(default=32 * 1024, ge=256, le=300 * 1024)
    """Canonical JSON size limit of one entry's data (DynamoDB items stop at 400 KB)."""
    verify_cache_seconds: float = Field(default=30.0, ge=0)
    """How old a full-journal verification ``POST /v1/ledger/verify`` (PDF mode)
    may reuse; ops' ``GET /internal/ledger/verify`` and anchoring always re-verify."""
    max_pdf_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    """The largest PDF ``POST /v1/ledger/verify`` hashes."""
