"""The user rules: what a profile and its preferences are, which fields the
owner may edit, what a time zone, locale and phone number look like.

Pure: no I/O, no FastAPI; ``service.Users`` applies them.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from mindlinks_kit.dynamo import StaleVersion
from mindlinks_kit.errors import InvalidInput, NotFound


class ProfileNotReady(NotFound):
    code = "profile-not-ready"
    title = "The profile is still being set up; retry shortly"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail)
        self.headers["Retry-After"] = "1"


class TooManyRecipients(InvalidInput):
    code = "too-many-recipients"
    title = "Too many users asked for at once"


class UserNotFound(NotFound):
    """Unknown and foreign users answer alike (the security model's 404)."""


DEFAULT_TIMEZONE = "UTC"
DEFAULT_LOCALE = "en"
CHANNELS = ("email", "inApp")
CATEGORIES = ("productUpdates", "contractUpdates", "paymentUpdates", "marketing")
EDITABLE = ("name", "display_name", "phone", "timezone", "locale")
"""Profile fields the owner may change (email and role belong to auth)."""

_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-(?:[A-Z]{2}|[0-9]{3}))?$")
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")

NotificationSettings = dict[str, dict[str, bool]]


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_timezone(value: str) -> bool:
    """An IANA time zone name (``Europe/Paris``, ``UTC``)."""
    return value in _zones()


def is_locale(value: str) -> bool:
    """A BCP 47 language tag of the common shape: ``en``, ``en-GB``, ``zh-Hant-TW``."""
    return bool(_LOCALE.match(value))


def is_phone(value: str) -> bool:
    """A phone number in E.164 (``+33612345678``)."""
    return bool(_PHONE.match(value))


def default_notifications() -> NotificationSettings:
    """Transactional categories on, marketing off until the user opts in."""
    return {
        channel: {category: category != "marketing" for category in CATEGORIES}
        for channel in CHANNELS
    }


@dataclass(frozen=True)
class Profile:
    user_id: str
    email: str
    name: str
    role: str
    display_name: str | None
    phone: str | None
    timezone: str
    locale: str
    created_at: str
    updated_at: str
    version: int = 1


@dataclass(frozen=True)
class Preferences:
    user_id: str
    locale: str | None
    timezone: str | None
    notifications: NotificationSettings = field(default_factory=default_notifications)
    updated_at: str = ""
    version: int = 1


def changed_fields(profile: Profile, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The requested changes that actually differ from the profile."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    return {name: value for name, value in changes.items() if getattr(profile, name) != value}


def check_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise StaleVersion(f"The object is at version {current}, not {expected}")
