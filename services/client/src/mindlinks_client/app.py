"""Client service wiring."""

from __future__ import annotations

from fastapi import FastAPI

from mindlinks_client import api, api_members
from mindlinks_client.deps import setup
from mindlinks_client.settings import Settings
from mindlinks_fleet import FLEET
from mindlinks_kit.app import create_app
from mindlinks_kit.settings import from_environment


def create(settings: Settings | None = None) -> FastAPI:
    return create_app(
        fleet=FLEET,
        service="client",
        settings=settings or from_environment(Settings),
        routers=[api.public, api_members.router, api.internal],
        setup=setup,
        description=(
            "Client companies (checked against OpenCorporates), their teams and "
            "contractor invitations."
        ),
    )
