"""User settings: the shared ones (the service has no policies of its own yet)."""

from __future__ import annotations

from mindlinks_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    pass
