"""Payment service wiring."""

from __future__ import annotations

from fastapi import FastAPI

from mindlinks_fleet import FLEET
from mindlinks_kit.app import create_app
from mindlinks_kit.settings import from_environment
from mindlinks_payment import api, escrow_api, invoice_api
from mindlinks_payment.deps import setup
from mindlinks_payment.events import handlers, timers
from mindlinks_payment.settings import Settings


def create(settings: Settings | None = None) -> FastAPI:
    return create_app(
        fleet=FLEET,
        service="payment",
        settings=settings or from_environment(Settings),
        routers=[
            api.public,
            escrow_api.public,
            invoice_api.router,
            api.internal,
            escrow_api.internal,
        ],
        dev_routers=[api.dev, escrow_api.dev],
        setup=setup,
        handlers=handlers,
        timers=timers,
        description="Stripe PaymentIntents per schedule item, escrow, releases to contractors.",
    )
