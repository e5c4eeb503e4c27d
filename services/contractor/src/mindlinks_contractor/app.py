"""Contractor service wiring."""

from __future__ import annotations

from fastapi import FastAPI

from mindlinks_contractor import api
from mindlinks_contractor.deps import setup
from mindlinks_contractor.events import handlers
from mindlinks_contractor.settings import Settings
from mindlinks_fleet import FLEET
from mindlinks_kit.app import create_app
from mindlinks_kit.settings import from_environment


def create(settings: Settings | None = None) -> FastAPI:
    return create_app(
        fleet=FLEET,
        service="contractor",
        settings=settings or from_environment(Settings),
        routers=[api.public, api.internal],
        setup=setup,
        handlers=handlers,
        description="Contractor profiles, engagements, KYC status and encrypted bank details.",
    )
