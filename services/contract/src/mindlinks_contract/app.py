"""Contract service wiring."""

from __future__ import annotations

from fastapi import FastAPI

from mindlinks_contract import amendment_api, api
from mindlinks_contract.deps import setup
from mindlinks_contract.events import handlers, timers
from mindlinks_contract.settings import Settings
from mindlinks_fleet import FLEET
from mindlinks_kit.app import create_app
from mindlinks_kit.settings import from_environment


def create(settings: Settings | None = None) -> FastAPI:
    return create_app(
        fleet=FLEET,
        service="contract",
        settings=settings or from_environment(Settings),
        routers=[api.public, amendment_api.public, api.internal, amendment_api.internal],
        setup=setup,
        handlers=handlers,
        timers=timers,
        description=(
            "Contracts: drafting, the PDF, templates, the contract status machine, "
            "amendments and termination."
        ),
    )
