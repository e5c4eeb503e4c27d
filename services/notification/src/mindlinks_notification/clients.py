"""Typed calls to the notification service's peers."""

from __future__ import annotations

from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from mindlinks_kit.http import Peers, refusal
from mindlinks_notification.domain import Contact, NotificationChoices


class _Choices(BaseModel):
    """The part of the user service's preferences we read (tolerant reader)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    email: dict[str, bool] = Field(default_factory=dict)
    in_app: dict[str, bool] = Field(default_factory=dict, alias="inApp")


class _Preferences(BaseModel):
    model_config = ConfigDict(extra="ignore")

    notifications: _Choices


class _Profile(BaseModel):
    """The part of the user service's profile we read (tolerant reader)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    email: str
    name: str
    display_name: str | None = Field(default=None, alias="displayName")


class UserDirectory:
    """The user service: ``GET /internal/users/{id}`` and ``.../preferences``."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def notification_choices(self, user_id: str) -> NotificationChoices | None:
        """The user's opt-ins, or ``None`` when the user has none yet (unknown, or
        the profile is still being created)."""
        response = await self.peers.request(
            "user", "GET", f"/internal/users/{quote(user_id, safe='')}/preferences"
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise refusal("user", response)
        choices = _Preferences.model_validate(response.json()).notifications
        return {"email": choices.email, "inApp": choices.in_app}

    async def contact(self, user_id: str) -> Contact | None:
        """Where and how to address a user, or ``None`` for an unknown user."""
        response = await self.peers.request(
            "user", "GET", f"/internal/users/{quote(user_id, safe='')}"
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise refusal("user", response)
        profile = _Profile.model_validate(response.json())
        return Contact(
            user_id=user_id, email=profile.email, name=profile.display_name or profile.name
        )
