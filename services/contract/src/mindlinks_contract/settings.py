"""Contract settings: the shared ones plus document handling."""

from __future__ import annotations

from mindlinks_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    document_link_seconds: int = 300
    """Lifetime of the presigned download links (``GET /v1/contracts/{id}/pdf``)."""
    max_document_bytes: int = 25 * 1024 * 1024
    """Largest final (signed) document the signature service may store."""
