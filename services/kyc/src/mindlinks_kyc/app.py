"""KYC service wiring."""

from __future__ import annotations

from fastapi import FastAPI

from mindlinks_fleet import FLEET
from mindlinks_kit.app import create_app
from mindlinks_kit.settings import from_environment
from mindlinks_kyc import api
from mindlinks_kyc.deps import setup
from mindlinks_kyc.events import handlers
from mindlinks_kyc.settings import Settings


def create(settings: Settings | None = None) -> FastAPI:
    return create_app(
        fleet=FLEET,
        service="kyc",
        settings=settings or from_environment(Settings),
        routers=[api.public, api.webhooks, api.internal],
        dev_routers=[api.dev],
        setup=setup,
        handlers=handlers,
        description="Identity verification (Veriff/Onfido): sessions, documents, decisions.",
    )
