"""The notification rules and values: which channels a notification may use
(opt-outs, essential mail, consent), stable ids that recognise a repeat, what
a send request, its outcome and an in-app notification are, how money reads
in a message; the problems the use cases raise.

Pure: no I/O, no FastAPI; ``service`` applies them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mindlinks_kit.dynamo import ConditionFailed
from mindlinks_kit.errors import InvalidInput, NotFound


class UnsupportedChannel(InvalidInput):
    code = "unsupported-channel"
    title = "The template cannot be sent on this channel"


class RecipientNotAUser(InvalidInput):
    code = "recipient-not-a-user"
    title = "In-app notifications need a recipient userId"


class NotificationNotFound(NotFound):
    """Unknown and other users' notifications answer alike."""


class AlreadyRecorded(ConditionFailed):
    code = "already-recorded"
    title = "This notification was already recorded"


NotificationChoices = Mapping[str, Mapping[str, bool]]
"""A user's opt-ins: channel → category → allowed (the user service's shape)."""


_ID_NAMESPACE = uuid.UUID("6f1d3c1e-4c52-4b7a-9a43-0d6c0a2f7e15")


def notification_id(origin: str, dedupe_key: str | None) -> str:
    """Stable for the same (origin, key) so a repeat is recognised; random otherwise."""
    if dedupe_key is None:
        return uuid.uuid4().hex
    return uuid.uuid5(_ID_NAMESPACE, f"{origin}\0{dedupe_key}").hex


def permitted_channels(
    channels: Sequence[str],
    *,
    essential: bool,
    category: str | None,
    choices: NotificationChoices | None,
) -> tuple[list[str], str | None]:
    """The channels a notification may use and, when none, why.

    Essential (security) mail ignores opt-outs; mail without a category has no
    opt-out; marketing needs an explicit opt-in, so it goes nowhere when the
    recipient's choices are unknown."""
    if essential or category is None:
        return list(channels), None
    if choices is None:
        return ([], "no-consent") if category == "marketing" else (list(channels), None)
    allowed = [c for c in channels if choices.get(c, {}).get(category, category != "marketing")]
    return allowed, None if allowed else "opted-out"


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    user_id: str | None = None


@dataclass(frozen=True)
class SendRequest:
    template: str
    recipient: Recipient
    origin: str
    """Who asked (the calling service, or the event): scopes the dedupe key."""
    data: Mapping[str, Any] = field(default_factory=dict)
    essential: bool = False
    category: str | None = None
    channels: tuple[str, ...] = ("email",)
    dedupe_key: str | None = None


@dataclass(frozen=True)
class Outcome:
    id: str
    channels: list[str]
    skipped: bool = False
    reason: str | None = None
    duplicate: bool = False


@dataclass(frozen=True)
class InApp:
    id: str
    user_id: str
    created_at: str
    template: str
    title: str
    body: str
    data: Mapping[str, Any]
    read_at: str | None = None


def format_when(iso: str) -> str:
    """``2030-02-15T10:00:00.000000Z`` → ``2030-02-15 10:00 UTC`` (a date alone stays one)."""
    try:
        at = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if "T" not in iso:
        return at.date().isoformat()
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def settled_sides(outcome: str) -> tuple[str, ...]:
    """Who hears that an escrowed item is settled: whom no other mail told.

    Money that moved is told by its own mail, with how it was decided (an
    approval, the review period's end, an agreement, an admin's resolution):
    ``payment.released`` to both parties, ``payment.refunded`` to the client.
    So a release needs no more; a refund, or a split's refunded part, is news
    to the contractor only; a cancellation (nothing moved) to both."""
    if outcome == "released":
        return ()
    if outcome in ("refunded", "split"):
        return ("contractor",)
    return ("client", "contractor")


@dataclass(frozen=True)
class Contact:
    user_id: str
    email: str
    name: str


@dataclass(frozen=True)
class Addressee:
    """Whom a notification goes to: where and how to address them, and their
    opt-ins (``None`` when they have none yet: the defaults apply)."""

    contact: Contact
    choices: NotificationChoices | None
