"""The event catalog: every event's name, producer and payload, once.

Consumers are declared on each service (``Service.consumes``) and each
service's ``events.py`` maps them to handlers; the app factory refuses to
start when the two disagree.
"""

from __future__ import annotations

from typing import Literal

from mindlinks_kit.declaration import Event
from mindlinks_kit.schemas import ApiModel

Role = Literal["client", "contractor", "admin"]


class UserCreated(ApiModel):
    user_id: str
    email: str
    name: str
    role: Role


class UserUpdated(ApiModel):
    user_id: str
    changed: list[str]


class UserSuspended(ApiModel):
    user_id: str
    reason: str


class UserUnsuspended(ApiModel):
    user_id: str


CATALOG: tuple[Event, ...] = (
    Event("user.created", producer="auth", payload=UserCreated),
    Event("user.suspended", producer="auth", payload=UserSuspended),
    Event("user.unsuspended", producer="auth", payload=UserUnsuspended),
    Event("user.updated", producer="user", payload=UserUpdated),
)
