"""Events in and out of the notification service.

Publishes nothing. Consumes ``user.created`` → the welcome, in the app and by
email. The in-app notification commits with the consumer's inbox record (a
redelivery changes nothing); the email is claimed in Redis by event id first,
so a redelivery after a failed commit does not mail twice.
"""

from __future__ import annotations

from mindlinks_fleet.events import UserCreated
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.events.consumer import Handler
from mindlinks_kit.events.envelope import Delivered
from mindlinks_notification.deps import NotificationDeps


def handlers(deps: NotificationDeps) -> dict[str, Handler]:
    async def on_user_created(event: Delivered[UserCreated], uow: UnitOfWork) -> None:
        await deps.notifier.welcome(event.payload, event.id, uow)

    return {"user.created": on_user_created}
