"""Auth settings: the shared ones plus auth's own policies."""

from __future__ import annotations

from mindlinks_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    refresh_token_ttl_seconds: int = 7 * 24 * 3600
