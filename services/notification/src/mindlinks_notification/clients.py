"""Typed calls to the notification service's peers."""

from __future__ import annotations

import time
from collections.abc import Sequence

from mindlinks_fleet.internal import user
from mindlinks_kit.http import Peers
from mindlinks_notification.domain import Addressee, Contact, NotificationChoices

_KEPT_AT_MOST = 10_000


class UserDirectory:
    """The user service: a user's profile and preferences.

    The addressees of events are kept for ``keep_seconds`` (a lifecycle
    notifies the same two people a dozen times); ``forget`` drops one at once
    when ``user.updated`` says they changed, so a change reaches this task at
    once and any other task within ``keep_seconds``."""

    def __init__(self, peers: Peers, keep_seconds: float = 0.0) -> None:
        self.peers = peers
        self.keep_seconds = keep_seconds
        self._kept: dict[str, tuple[float, Addressee]] = {}

    def forget(self, user_id: str) -> None:
        self._kept.pop(user_id, None)

    async def notification_choices(self, user_id: str) -> NotificationChoices | None:
        """The user's opt-ins, or ``None`` when the user has none yet (unknown, or
        the profile is still being created)."""
        preferences = await self.peers.call(user.PREFERENCES, user_id)
        return None if preferences is None else _choices(preferences)

    async def addressees(self, user_ids: Sequence[str]) -> dict[str, Addressee]:
        """Contact and opt-ins of each known user among ``user_ids``, in one call
        (one read at the user service): whom one event notifies."""
        now = time.monotonic()
        found: dict[str, Addressee] = {}
        wanted = []
        for user_id in dict.fromkeys(user_ids):
            kept = self._kept.get(user_id)
            if kept is not None and now - kept[0] < self.keep_seconds:
                found[user_id] = kept[1]
            else:
                wanted.append(user_id)
        for start in range(0, len(wanted), user.RECIPIENTS_AT_ONCE):
            chunk = wanted[start : start + user.RECIPIENTS_AT_ONCE]
            answer = await self.peers.call(user.RECIPIENTS, params={"userId": chunk})
            for item in answer.items:
                profile, preferences = item.profile, item.preferences
                choices = None if preferences is None else _choices(preferences)
                found[profile.user_id] = Addressee(_contact(profile), choices)
                if self.keep_seconds > 0:
                    if len(self._kept) >= _KEPT_AT_MOST:
                        self._kept.clear()
                    self._kept[profile.user_id] = (now, found[profile.user_id])
        return found

    async def contact(self, user_id: str) -> Contact | None:
        """Where and how to address a user, or ``None`` for an unknown user."""
        profile = await self.peers.call(user.PROFILE, user_id)
        return None if profile is None else _contact(profile)


def _choices(preferences: user.PreferencesOut) -> NotificationChoices:
    channels = preferences.notifications
    return {
        "email": channels.email.model_dump(by_alias=True),
        "inApp": channels.in_app.model_dump(by_alias=True),
    }


def _contact(profile: user.ProfileOut) -> Contact:
    return Contact(
        user_id=profile.user_id, email=profile.email, name=profile.display_name or profile.name
    )
