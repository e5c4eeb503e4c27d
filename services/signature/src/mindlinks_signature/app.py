"""Signature service wiring."""

from __future__ import annotations

from fastapi import FastAPI

from mindlinks_fleet import FLEET
from mindlinks_kit.app import create_app
from mindlinks_kit.settings import from_environment
from mindlinks_signature import api
from mindlinks_signature.deps import setup
from mindlinks_signature.events import handlers
from mindlinks_signature.settings import Settings


def create(settings: Settings | None = None) -> FastAPI:
    return create_app(
        fleet=FLEET,
        service="signature",
        settings=settings or from_environment(Settings),
        routers=[api.public, api.internal],
        dev_routers=[api.dev],
        setup=setup,
        handlers=handlers,
        description="E-signatures: consent, ledger receipts, the certificate of completion.",
    )
