"""Ledger service wiring."""

from __future__ import annotations

from fastapi import FastAPI

from mindlinks_fleet import FLEET
from mindlinks_kit.app import create_app
from mindlinks_kit.settings import from_environment
from mindlinks_ledger import api
from mindlinks_ledger.deps import background, setup
from mindlinks_ledger.events import handlers
from mindlinks_ledger.settings import Settings


def create(settings: Settings | None = None) -> FastAPI:
    return create_app(
        fleet=FLEET,
        service="ledger",
        settings=settings or from_environment(Settings),
        routers=[api.public, api.internal],
        dev_routers=[api.dev],
        setup=setup,
        handlers=handlers,
        background=background,
        description="The verifiable journal: hash chain, Merkle proofs, anchored digests.",
    )
