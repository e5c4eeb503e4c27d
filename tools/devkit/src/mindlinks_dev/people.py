"""People in the services' tests: their accounts, made as production makes
them — registered through auth's public route, or announced as auth announces
a new account (``user.created`` through its outbox) where a service only needs
the event — and what they receive: mail in the local mailbox, in-app notes.
``People`` is the base of each service's own test helpers;
``mindlinks_dev.parties`` registers its parties here too."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from mindlinks_dev.harness import Running
from mindlinks_dev.problem import problem
from mindlinks_fleet.events import Role, UserCreated

PASSWORD = "Correct-Horse-9-Battery"  # noqa: S105 - throwaway test accounts


@dataclass(frozen=True)
class Account:
    user_id: str
    email: str
    name: str
    role: str
    headers: dict[str, str]
    """A real access token of the running auth service, for this person and role."""


@dataclass(frozen=True)
class Announced(Account):
    event_id: str
    """The ``user.created`` event that announced the account (to deliver it again)."""


def new_email() -> str:
    """An address nobody has registered (every test of a session shares its tables)."""
    return f"u{uuid.uuid4().hex[:16]}@example.com"


async def register(fleet: Running, role: str, name: str, email: str | None = None) -> Account:
    """An account registered through auth's public route, its ``user.created``
    still in auth's outbox (the next ``deliver()`` takes it to the consumers)."""
    email = email or new_email()
    response = await fleet.client("auth").post(
        "/v1/auth/register",
        json={"email": email, "password": PASSWORD, "name": name, "role": role},
    )
    assert response.status_code == 202, response.text
    user_id = await fleet.user_id_of(email)
    return Account(user_id, email, name, role, fleet.bearer(user_id, role))


async def mailbox(fleet: Running, to: str) -> list[dict[str, Any]]:
    """The mail sent to ``to``, newest first, as the local mailbox of the
    notification service holds it."""
    response = await fleet.client("notification").get(
        "/v1/notifications/dev/mailbox", params={"to": to}
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


class People:
    """What a service's tests do with people: tokens for them, accounts
    announced as auth announces them, their mail and in-app notes."""

    problem = staticmethod(problem)

    def __init__(self, fleet: Running) -> None:
        self.fleet = fleet

    def headers(self, user_id: str, role: str = "client") -> dict[str, str]:
        return self.fleet.bearer(user_id, role)

    async def publish(
        self, role: Role = "client", name: str = "Ada Lovelace", user_id: str | None = None
    ) -> Announced:
        """A new account as auth announces one — ``user.created`` committed
        through auth's outbox — not yet delivered, and with no registration."""
        user_id = user_id or uuid.uuid4().hex
        email = f"{user_id}@example.com"
        auth = self.fleet.runtime("auth")
        uow = auth.uow()
        detail = auth.publish(
            uow, "user.created", UserCreated(user_id=user_id, email=email, name=name, role=role)
        )
        await uow.commit()
        return Announced(user_id, email, name, role, self.headers(user_id, role), detail.id)

    async def create(self, role: Role = "client", name: str = "Ada Lovelace") -> Announced:
        """``user.created`` through the real path: the user service makes the
        profile and preferences, the notification service the welcome."""
        account = await self.publish(role, name)
        await self.fleet.deliver()
        return account

    async def republish(self, event_id: str) -> int:
        return await self.fleet.redeliver("auth", event_id)

    async def mailbox(self, to: str) -> list[dict[str, Any]]:
        return await mailbox(self.fleet, to)

    async def in_app(self, account: Account) -> list[dict[str, Any]]:
        response = await self.fleet.client("notification").get(
            "/v1/notifications/me", headers=account.headers, params={"limit": 100}
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items
