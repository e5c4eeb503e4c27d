"""Events in and out of the notification service.

Publishes nothing. Consumes ``user.created`` → the welcome, in the app and by
email; ``user.updated`` → forget the user's address and opt-ins kept from the
user service (``clients.UserDirectory``); and the lifecycle events of
``flows.EventNotifications`` (company reviews, invitations, KYC decisions,
contracts, signatures, payments), ``teams.TeamNotifications`` (company
membership changes) and ``escrow.EscrowNotifications`` (submissions, reviews,
disputes, refunds, settlements, invoices, terminations) and
``signing.SigningNotifications`` (signing reminders, a moved deadline, an
expiry) → their recipients, resolved through the user service; the public
event types' sources (``webhooks.catalog``) → a delivery to each subscribed
webhook endpoint of the company concerned, in the same unit of work as its
notifications. In-app notifications commit with the consumer's inbox record
(a redelivery changes nothing); emails are claimed in Redis by event id and
recipient first, so a redelivery after a failed commit does not mail twice.
"""

from __future__ import annotations

from typing import Any

from mindlinks_fleet.events import UserCreated, UserUpdated
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.events.consumer import Handler, replay_safe
from mindlinks_kit.events.envelope import Delivered
from mindlinks_kit.timers import TimerHandler
from mindlinks_notification.deps import NotificationDeps
from mindlinks_notification.service.escrow import EscrowNotifications
from mindlinks_notification.service.flows import EventNotifications
from mindlinks_notification.service.signing import SigningNotifications
from mindlinks_notification.service.teams import TeamNotifications
from mindlinks_notification.webhooks.catalog import BY_SOURCE
from mindlinks_notification.webhooks.deliveries import ATTEMPT


def handlers(deps: NotificationDeps) -> dict[str, Handler]:
    async def on_user_created(event: Delivered[UserCreated], uow: UnitOfWork) -> None:
        await deps.notifier.welcome(event.payload, event.id, uow)

    async def on_user_updated(event: Delivered[UserUpdated], uow: UnitOfWork) -> None:
        deps.directory.forget(event.payload.user_id)  # read their address and opt-ins again

    flows = EventNotifications(
        deps.notifier,
        deps.directory,
        deps.settings.public_base_url,
        deps.runtime.metrics,
    )
    # In-app items are conditional creates in the unit of work; each email is
    # claimed in Redis by notification id (event id and recipient) before it is sent.
    every: dict[str, Handler] = {
        "user.created": on_user_created,
        "user.updated": on_user_updated,
        **flows.handlers(),
        **TeamNotifications(flows).handlers(),
        **EscrowNotifications(flows).handlers(),
        **SigningNotifications(flows).handlers(),
    }
    for source in BY_SOURCE:
        every[source] = _also(every.get(source), deps.deliveries.on_event)
    return {name: replay_safe(handler) for name, handler in every.items()}


def _also(first: Handler | None, then: Handler) -> Handler:
    """Both handlers of one event, in one unit of work (mail first, then webhooks)."""
    if first is None:
        return then

    async def both(event: Delivered[Any], uow: UnitOfWork) -> None:
        await first(event, uow)
        await then(event, uow)

    return both


def timers(deps: NotificationDeps) -> dict[str, TimerHandler]:
    return {ATTEMPT: deps.deliveries.attempt}
