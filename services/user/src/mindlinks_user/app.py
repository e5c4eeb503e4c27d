"""User service wiring."""

from __future__ import annotations

from fastapi import FastAPI

from mindlinks_fleet import FLEET
from mindlinks_kit.app import create_app
from mindlinks_kit.settings import from_environment
from mindlinks_user import api
from mindlinks_user.deps import setup
from mindlinks_user.events import handlers
from mindlinks_user.settings import Settings


def create(settings: Settings | None = None) -> FastAPI:
    return create_app(
        fleet=FLEET,
        service="user",
        settings=settings or from_environment(Settings),
        routers=[api.public, api.internal],
        setup=setup,
        handlers=handlers,
        description="Profiles and notification preferences of every account.",
    )
