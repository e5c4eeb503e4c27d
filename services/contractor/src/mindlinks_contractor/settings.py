"""Contractor settings: the shared ones plus the key that wraps bank details."""

from __future__ import annotations

from mindlinks_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    data_key_id: str | None = None
    """The KMS key that wraps bank details' data keys; default
    ``alias/<resource_prefix>data`` (the fleet's data key)."""

    @property
    def data_key(self) -> str:
        return self.data_key_id or f"alias/{self.resource_prefix}data"
