"""Notification service wiring."""

from __future__ import annotations

from fastapi import FastAPI

from mindlinks_fleet import FLEET
from mindlinks_kit.app import create_app
from mindlinks_kit.settings import from_environment
from mindlinks_notification import api
from mindlinks_notification.deps import setup
from mindlinks_notification.events import handlers, timers
from mindlinks_notification.settings import Settings
from mindlinks_notification.webhooks import api as webhooks_api


def create(settings: Settings | None = None) -> FastAPI:
    return create_app(
        fleet=FLEET,
        service="notification",
        settings=settings or from_environment(Settings),
        routers=[webhooks_api.router, api.public, api.internal],
        dev_routers=[api.dev],
        setup=setup,
        handlers=handlers,
        timers=timers,
        description="Templated email (SendGrid) and in-app notifications.",
    )
