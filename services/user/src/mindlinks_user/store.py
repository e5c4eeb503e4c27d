"""The user service's tables: ``profiles`` and ``preferences`` (both keyed by
``userId``). Nothing else reads or writes them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mindlinks_kit.dynamo import Item, Table, UnitOfWork, from_wire
from mindlinks_kit.records import Record
from mindlinks_user.domain import (
    DEFAULT_LOCALE,
    DEFAULT_TIMEZONE,
    Preferences,
    Profile,
    default_notifications,
)

PROFILES = Record(Profile, absent={"timezone": DEFAULT_TIMEZONE, "locale": DEFAULT_LOCALE})
PREFERENCES = Record(Preferences)


def _profile_from(item: Item) -> Profile:
    # Profiles from before updates were recorded.
    return PROFILES.read({"updatedAt": item["createdAt"], **item})


def _preferences_from(item: Item) -> Preferences:
    stored = PREFERENCES.read(item)
    notifications = default_notifications()
    for channel, categories in notifications.items():
        # A category added after the item was written takes its default.
        chosen = stored.notifications.get(channel, {})
        categories.update({k: v for k, v in chosen.items() if k in categories})
    return replace(stored, notifications=notifications)


class UserStore:
    def __init__(self, profiles: Table, preferences: Table) -> None:
        self.profiles = profiles
        self.preferences_table = preferences

    async def profile(self, user_id: str) -> Profile | None:
        item = await self.profiles.get({"userId": user_id})
        return _profile_from(item) if item else None

    async def preferences(self, user_id: str) -> Preferences | None:
        item = await self.preferences_table.get({"userId": user_id})
        return _preferences_from(item) if item else None

    async def profiles_and_preferences(
        self, user_ids: list[str]
    ) -> list[tuple[Profile, Preferences | None]]:
        """Both items of each user in one ``BatchGetItem`` (consistent reads;
        at most 50 users); users without a profile are left out."""
        keys = [{"userId": {"S": user_id}} for user_id in dict.fromkeys(user_ids)]
        request: dict[str, Any] = {
            table.name: {"Keys": keys, "ConsistentRead": True}
            for table in (self.profiles, self.preferences_table)
        }
        found: dict[str, dict[str, Item]] = {
            self.profiles.name: {},
            self.preferences_table.name: {},
        }
        while request:
            response = await self.profiles.client.batch_get_item(RequestItems=request)
            for name, items in response.get("Responses", {}).items():
                for raw in items:
                    item = from_wire(raw)
                    found[name][str(item["userId"])] = item
            request = response.get("UnprocessedKeys") or {}
        profiles, preferences = found[self.profiles.name], found[self.preferences_table.name]
        return [
            (
                _profile_from(profiles[user_id]),
                _preferences_from(preferences[user_id]) if user_id in preferences else None,
            )
            for user_id in dict.fromkeys(user_ids)
            if user_id in profiles
        ]

    def add_profile(self, uow: UnitOfWork, profile: Profile) -> None:
        uow.create(self.profiles, PROFILES.item(profile), key="userId")

    def add_preferences(self, uow: UnitOfWork, preferences: Preferences) -> None:
        uow.create(self.preferences_table, PREFERENCES.item(preferences), key="userId")

    def replace_profile(self, uow: UnitOfWork, profile: Profile, *, expected_version: int) -> None:
        uow.replace(self.profiles, PROFILES.item(profile), expected_version=expected_version)

    def replace_preferences(
        self, uow: UnitOfWork, preferences: Preferences, *, expected_version: int
    ) -> None:
        uow.replace(
            self.preferences_table, PREFERENCES.item(preferences), expected_version=expected_version
        )
