"""What the notification service's routes and handlers depend on, built once
per process: templates seeded, the mailer chosen, the peers' clients."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from mindlinks_kit.app import service_deps, tls
from mindlinks_kit.runtime import Runtime
from mindlinks_notification.clients import UserDirectory
from mindlinks_notification.providers import Mailer
from mindlinks_notification.providers.mailbox import LocalMailbox
from mindlinks_notification.providers.sendgrid import SendGridMailer
from mindlinks_notification.seeds import SEEDS
from mindlinks_notification.service.notifier import Notifier
from mindlinks_notification.settings import Settings
from mindlinks_notification.store import EmailClaims, NotificationStore
from mindlinks_notification.templates import Renderer, TemplateCatalog, seed
from mindlinks_notification.webhooks.addresses import AddressPolicy
from mindlinks_notification.webhooks.deliveries import Deliveries
from mindlinks_notification.webhooks.endpoints import Endpoints
from mindlinks_notification.webhooks.notice import EndpointDisabledNotice
from mindlinks_notification.webhooks.secrets import SecretBox
from mindlinks_notification.webhooks.store import WebhookStore
from mindlinks_notification.webhooks.transport import guarded_client

ATTEMPT_CLAIM_MARGIN_SECONDS = 10
"""A webhook attempt's claim holds its deadline plus this (``webhooks.deliveries``)."""


@dataclass
class NotificationDeps:
    runtime: Runtime
    settings: Settings
    notifier: Notifier
    mailbox: LocalMailbox | None
    """The local mailbox (local mode only), for the dev route."""
    directory: UserDirectory
    """The user service, whose answers about recipients the handlers share."""
    webhooks: Endpoints
    """Outbound webhooks: endpoints, secrets, the delivery log, replays."""
    deliveries: Deliveries
    """Outbound webhooks: events fanned out to endpoints, and each attempt."""


def mailer_for(settings: Settings, runtime: Runtime) -> Mailer:
    if settings.sendgrid_api_key is not None:
        return SendGridMailer(
            client=runtime.http,
            api_key=settings.sendgrid_api_key.get_secret_value(),
            sender_email=settings.mail_from_email,
            sender_name=settings.mail_from_name,
            base_url=settings.sendgrid_base_url,
            timeout=settings.mail_timeout_seconds,
            fail_max=settings.breaker_fail_max,
            reset_timeout=settings.breaker_reset_seconds,
        )
    if not settings.local_mode:
        raise RuntimeError("no mail provider outside local mode: set MINDLINKS_SENDGRID_API_KEY")
    return LocalMailbox(settings.mailbox_dir)


async def setup(runtime: Runtime) -> NotificationDeps:
    settings = runtime.settings_as(Settings)
    if runtime.redis is None:
        raise RuntimeError("the fleet must declare notification with Redis (email dedupe)")
    store = NotificationStore(runtime.table("notifications"), runtime.table("templates"))
    renderer = Renderer()
    await seed(store, SEEDS, renderer)
    mailer = mailer_for(settings, runtime)
    directory = UserDirectory(runtime.peers, keep_seconds=settings.recipient_cache_seconds)
    notifier = Notifier(
        store=store,
        catalog=TemplateCatalog(store, renderer, ttl=settings.template_cache_seconds),
        mailer=mailer,
        directory=directory,
        claims=EmailClaims(
            runtime.redis, runtime.redis_key("sent", ""), settings.dedupe_ttl_seconds
        ),
        cursors=runtime.cursors,
        metrics=runtime.metrics,
        dashboard_url=settings.public_base_url,
    )
    mailbox = LocalMailbox(settings.mailbox_dir) if settings.local_mode else None
    webhooks, deliveries = webhooks_for(runtime, settings, notifier, directory)
    return NotificationDeps(
        runtime=runtime,
        settings=settings,
        notifier=notifier,
        mailbox=mailbox,
        directory=directory,
        webhooks=webhooks,
        deliveries=deliveries,
    )


def webhooks_for(
    runtime: Runtime, settings: Settings, notifier: Notifier, directory: UserDirectory
) -> tuple[Endpoints, Deliveries]:
    if runtime.timers is None or runtime.redis is None:
        raise RuntimeError("the fleet must declare notification's webhook.attempt timer and Redis")
    store = WebhookStore(runtime.table("webhook-endpoints"), runtime.table("webhook-deliveries"))
    box = SecretBox(runtime.aws.kms, settings.data_key)
    # Loopback only in local mode: a developer's receiver on this machine.
    policy = AddressPolicy(allow_loopback=settings.local_mode)
    client = guarded_client(policy, settings.webhook_timeout_seconds, tls())
    runtime.close_at_shutdown(client.aclose)
    deliveries = Deliveries(
        store=store,
        timers=runtime.timers,
        box=box,
        client=client,
        claims=EmailClaims(
            runtime.redis,
            runtime.redis_key("webhook-attempt", ""),
            int(settings.webhook_timeout_seconds) + ATTEMPT_CLAIM_MARGIN_SECONDS,
        ),
        notice=EndpointDisabledNotice(runtime.peers, directory, notifier, settings.public_base_url),
        metrics=runtime.metrics,
        deadline_seconds=settings.webhook_timeout_seconds,
    )
    endpoints = Endpoints(
        store=store,
        box=box,
        deliveries=deliveries,
        policy=policy,
        cursors=runtime.cursors,
        new_uow=runtime.uow,
    )
    return endpoints, deliveries


Deps = Annotated[NotificationDeps, Depends(service_deps)]
