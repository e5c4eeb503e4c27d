"""Auth service wiring."""

from __future__ import annotations

from fastapi import FastAPI

from mindlinks_auth import api
from mindlinks_auth.deps import setup
from mindlinks_auth.settings import Settings
from mindlinks_fleet import FLEET
from mindlinks_kit.app import create_app
from mindlinks_kit.settings import from_environment


def create(settings: Settings | None = None) -> FastAPI:
    return create_app(
        fleet=FLEET,
        service="auth",
        settings=settings or from_environment(Settings),
        routers=[api.well_known, api.public, api.internal],
        setup=setup,
        description="Accounts, sessions, access and refresh tokens, MFA, JWKS, service tokens.",
    )
