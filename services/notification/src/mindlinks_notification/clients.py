"""Typed calls to the notification service's peers."""

from __future__ import annotations

from collections.abc import Sequence

from mindlinks_fleet.internal import user
from mindlinks_kit.http import Peers
from mindlinks_notification.domain import Addressee, Contact, NotificationChoices


class UserDirectory:
    """The user service: a user's profile and preferences."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def notification_choices(self, user_id: str) -> NotificationChoices | None:
        """The user's opt-ins, or ``None`` when the user has none yet (unknown, or
        the profile is still being created)."""
        preferences = await self.peers.call(user.PREFERENCES, user_id)
        if preferences is None:
            return None
        choices = preferences.notifications
        return {
            "email": choices.email.model_dump(by_alias=True),
            "inApp": choices.in_app.model_dump(by_alias=True),
        }

    async def addressees(self, user_ids: Sequence[str]) -> dict[str, Addressee]:
        """Contact and opt-ins of each known user among ``user_ids``, in one call
        (one read at the user service): whom one event notifies."""
        wanted = list(dict.fromkeys(user_ids))
        found: dict[str, Addressee] = {}
        for start in range(0, len(wanted), user.RECIPIENTS_AT_ONCE):
            chunk = wanted[start : start + user.RECIPIENTS_AT_ONCE]
            answer = await self.peers.call(user.RECIPIENTS, params={"userId": chunk})
            for item in answer.items:
                profile, preferences = item.profile, item.preferences
                choices: NotificationChoices | None = None
                if preferences is not None:
                    choices = {
                        "email": preferences.notifications.email.model_dump(by_alias=True),
                        "inApp": preferences.notifications.in_app.model_dump(by_alias=True),
                    }
                contact = Contact(
                    user_id=profile.user_id,
                    email=profile.email,
                    name=profile.display_name or profile.name,
                )
                found[profile.user_id] = Addressee(contact, choices)
        return found

    async def contact(self, user_id: str) -> Contact | None:
        """Where and how to address a user, or ``None`` for an unknown user."""
        profile = await self.peers.call(user.PROFILE, user_id)
        if profile is None:
            return None
        return Contact(
            user_id=user_id, email=profile.email, name=profile.display_name or profile.name
        )
