"""Admin service wiring."""

from __future__ import annotations

from fastapi import FastAPI

from mindlinks_admin.api import ROUTERS
from mindlinks_admin.deps import AdminDeps, setup
from mindlinks_admin.settings import Settings
from mindlinks_fleet import FLEET
from mindlinks_kit.app import create_app
from mindlinks_kit.runtime import Runtime
from mindlinks_kit.settings import from_environment


def create(settings: Settings | None = None) -> FastAPI:
    async def wire(runtime: Runtime) -> AdminDeps:
        # The fleet views reach this service's own health and ops routes in-process.
        return await setup(runtime, own_app=lambda: app)

    app = create_app(
        fleet=FLEET,
        service="admin",
        settings=settings or from_environment(Settings),
        routers=ROUTERS,
        setup=wire,
        description="The operators' API over every service, with an append-only audit trail.",
    )
    return app
