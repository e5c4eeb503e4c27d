"""Signature settings: the shared ones."""

from __future__ import annotations

from mindlinks_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    document_timeout_seconds: float = 15.0
    """Deadline of the final document's upload to the contract service."""
