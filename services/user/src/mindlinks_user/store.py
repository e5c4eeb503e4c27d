"""The user service's tables: ``profiles`` and ``preferences`` (both keyed by
``userId``). Nothing else reads or writes them."""

from __future__ import annotations

from typing import Any

from mindlinks_kit.dynamo import Item, Table, UnitOfWork
from mindlinks_user.domain import (
    DEFAULT_LOCALE,
    DEFAULT_TIMEZONE,
    Preferences,
    Profile,
    default_notifications,
)


def profile_item(profile: Profile) -> Item:
    return {
        "userId": profile.user_id,
        "email": profile.email,
        "name": profile.name,
        "role": profile.role,
        "displayName": profile.display_name,
        "phone": profile.phone,
        "timezone": profile.timezone,
        "locale": profile.locale,
        "createdAt": profile.created_at,
        "updatedAt": profile.updated_at,
        "version": profile.version,
    }


def profile_from(item: Item) -> Profile:
    return Profile(
        user_id=item["userId"],
        email=item["email"],
        name=item["name"],
        role=item["role"],
        display_name=item.get("displayName"),
        phone=item.get("phone"),
        timezone=item.get("timezone", DEFAULT_TIMEZONE),
        locale=item.get("locale", DEFAULT_LOCALE),
        created_at=item["createdAt"],
        updated_at=item.get("updatedAt") or item["createdAt"],
        version=int(item.get("version", 1)),
    )


def preferences_item(preferences: Preferences) -> Item:
    return {
        "userId": preferences.user_id,
        "locale": preferences.locale,
        "timezone": preferences.timezone,
        "notifications": preferences.notifications,
        "updatedAt": preferences.updated_at,
        "version": preferences.version,
    }


def preferences_from(item: Item) -> Preferences:
    stored: dict[str, Any] = item.get("notifications") or {}
    notifications = default_notifications()
    for channel, categories in notifications.items():
        # A category added after the item was written takes its default.
        categories.update(
            {k: bool(v) for k, v in stored.get(channel, {}).items() if k in categories}
        )
    return Preferences(
        user_id=item["userId"],
        locale=item.get("locale"),
        timezone=item.get("timezone"),
        notifications=notifications,
        updated_at=item.get("updatedAt", ""),
        version=int(item.get("version", 1)),
    )


class UserStore:
    def __init__(self, profiles: Table, preferences: Table) -> None:
        self.profiles = profiles
        self.preferences_table = preferences

    async def profile(self, user_id: str) -> Profile | None:
        item = await self.profiles.get({"userId": user_id})
        return profile_from(item) if item else None

    async def preferences(self, user_id: str) -> Preferences | None:
        item = await self.preferences_table.get({"userId": user_id})
        return preferences_from(item) if item else None

    def add_profile(self, uow: UnitOfWork, profile: Profile) -> None:
        uow.create(self.profiles, profile_item(profile), key="userId")

    def add_preferences(self, uow: UnitOfWork, preferences: Preferences) -> None:
        uow.create(self.preferences_table, preferences_item(preferences), key="userId")

    def replace_profile(self, uow: UnitOfWork, profile: Profile, *, expected_version: int) -> None:
        uow.replace(self.profiles, profile_item(profile), expected_version=expected_version)

    def replace_preferences(
        self, uow: UnitOfWork, preferences: Preferences, *, expected_version: int
    ) -> None:
        uow.replace(
            self.preferences_table, preferences_item(preferences), expected_version=expected_version
        )
