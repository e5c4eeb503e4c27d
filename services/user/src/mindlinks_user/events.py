"""Events in and out of the user service.

Publishes ``user.updated`` {userId, changed} when a profile changes
(``changed``: the profile's changed fields) or the preferences do
(``changed``: ``["preferences"]``), through the outbox, in the change's own
transaction (``service.Users.update_profile`` and ``replace_preferences``).
Consumes ``user.created`` → the profile and default preferences.
"""

from __future__ import annotations

from mindlinks_fleet.events import UserCreated
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.events.consumer import Handler, replay_safe
from mindlinks_kit.events.envelope import Delivered
from mindlinks_user.deps import UserDeps


def handlers(deps: UserDeps) -> dict[str, Handler]:
    async def on_user_created(event: Delivered[UserCreated], uow: UnitOfWork) -> None:
        await deps.users.on_user_created(event.payload, uow)

    # Reads, then conditional creates in the unit of work.
    return {"user.created": replay_safe(on_user_created)}
