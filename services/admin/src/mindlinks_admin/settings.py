"""Admin settings: the shared ones plus how long the gathering views wait."""

from __future__ import annotations

from pydantic import Field

from mindlinks_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    fleet_deadline_seconds: float = Field(default=1.5, gt=0, le=10)
    """``GET /v1/admin/fleet`` answers within this (plus its own overhead): every
    probe of every service runs at once, once, and one that has not answered by
    then is reported as ``timeout``."""
    view_deadline_seconds: float = Field(default=3.0, gt=0, le=30)
    """How long a view that gathers from several services waits for each of
    them before answering with what it got (``partial`` names the rest)."""
    audit_days_per_page: int = Field(default=31, ge=1, le=366)
    """Newest-first reads without an actor or target walk the trail day by day;
    one page looks at this many days at most (then answers with a cursor)."""
