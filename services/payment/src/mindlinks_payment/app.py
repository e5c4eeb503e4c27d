"""Payment service wiring."""

from __future__ import annotations

from fastapi import FastAPI

from mindlinks_fleet import FLEET
from mindlinks_kit.app import create_app
from mindlinks_kit.settings import from_environment
from mindlinks_payment import api, invoice_api
from mindlinks_payment.deps import setup
from mindlinks_payment.events import handlers
from mindlinks_payment.settings import Settings


def create(settings: Settings | None = None) -> FastAPI:
    return create_app(
        fleet=FLEET,
        service="payment",
        settings=settings or from_environment(Settings),
        routers=[api.public, invoice_api.router, api.internal],
        dev_routers=[api.dev],
        setup=setup,
        handlers=handlers,
        description="Stripe PaymentIntents per schedule item, escrow, releases to contractors.",
    )
