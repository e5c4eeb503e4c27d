"""Auth's tables: ``users`` (users, plus one email-claim item per address) and
``sessions``. Nothing else reads or writes them.

A GSI cannot enforce uniqueness, so each user comes with an item
``email#<address>`` created in the same transaction with a condition that it
does not exist yet; it is also how sign-in finds a user by email (one
strongly consistent read instead of an eventually consistent index query).
A claim is never changed or deleted, so the user id it names is remembered
per process: a sign-in after the first reads the user item alone.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from mindlinks_auth.domain import EmailTaken, Session, User
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import ConditionFailed, Item, StaleVersion, Table, UnitOfWork, values
from mindlinks_kit.pages import query_page, scan_page
from mindlinks_kit.records import Record

Changes = dict[str, Any]
"""Attribute name (storage, camelCase) → new value; ``None`` removes it."""


def _claim_id(email: str) -> str:
    return f"email#{email}"


REMEMBERED_EMAILS = 10_000
"""Email → user id pairs a process keeps (least recently used dropped): about 3 MB."""

USERS = Record(User)
SESSIONS = Record(Session, absent={"ip": "", "user_agent": "", "token_epoch": 0})


def _user_item(user: User) -> Item:
    return {**USERS.item(user), "kind": "user"}


def _update_expression(
    changes: Changes,
    *,
    bump_epoch: bool = False,
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """``SET``/``REMOVE`` for ``changes``; always bumps ``version`` (optimistic locks)."""
    names = {"#version": "version", "#updatedAt": "updatedAt"}
    sets = ["#version = #version + :one", "#updatedAt = :now"]
    removes = []
    args: dict[str, Any] = {"one": 1, "now": now_iso()}
    for i, (attribute, value) in enumerate(changes.items()):
        names[f"#a{i}"] = attribute
        if value is None:
            removes.append(f"#a{i}")
        else:
            sets.append(f"#a{i} = :a{i}")
            args[f"a{i}"] = value
    if bump_epoch:
        names["#epoch"] = "tokenEpoch"
        sets.append("#epoch = if_not_exists(#epoch, :zero) + :one")
        args["zero"] = 0
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    return expression, names, values(**args)


def _condition(expected: Changes, names: dict[str, str], args: dict[str, Any]) -> str:
    """``attribute_exists(id) AND kind = user`` plus equality on ``expected``."""
    names.update({"#id": "id", "#kind": "kind"})
    args.update(values(kindUser="user"))
    parts = ["attribute_exists(#id)", "#kind = :kindUser"]
    for i, (attribute, value) in enumerate(expected.items()):
        names[f"#c{i}"] = attribute
        args.update(values(**{f"c{i}": value}))
        parts.append(f"#c{i} = :c{i}")
    return " AND ".join(parts)


class Store:
    def __init__(self, users: Table, sessions: Table) -> None:
        self.users = users
        self.sessions = sessions
        self._ids: OrderedDict[str, str] = OrderedDict()
        """Claims read before: email → user id."""

    # users ---------------------------------------------------------------

    async def user(self, user_id: str) -> User | None:
        item = await self.users.get({"id": user_id})
        return USERS.read(item) if item and item.get("kind") == "user" else None

    async def user_by_email(self, email: str) -> User | None:
        """The user who claimed ``email``. The user item is always read (strongly
        consistent); the claim only when this process has not read it before. A
        remembered id counts only while the user item still carries the address,
        so a claim that ever did change could not send a sign-in elsewhere."""
        remembered = self._ids.get(email)
        if remembered is not None:
            user = await self.user(remembered)
            if user is not None and user.email == email:
                self._remember(email, user.id)
                return user
            self._ids.pop(email, None)
        claim = await self.users.get({"id": _claim_id(email)})
        if not claim:
            return None  # never remembered: the address may be registered any moment
        user = await self.user(claim["userId"])
        if user is not None and user.email == email:
            self._remember(email, user.id)
        return user

    def _remember(self, email: str, user_id: str) -> None:
        # Re-inserted rather than moved: a concurrent sign-in may have dropped it.
        self._ids.pop(email, None)
        self._ids[email] = user_id
        if len(self._ids) > REMEMBERED_EMAILS:
            self._ids.popitem(last=False)

    async def users_page(
        self, *, role: str | None, status: str | None, limit: int, start: Item | None
    ) -> tuple[list[User], Item | None]:
        """Accounts newest first by role (``by-role``), else in scan order;
        ``status`` filters. Email-claim items carry no role and are skipped by
        the scan's filter."""
        where = {"kind": "user", **({"status": status} if status is not None else {})}
        if role is not None:
            items, last = await query_page(
                self.users, "by-role", {"role": role}, limit, start, forward=False, where=where
            )
        else:
            items, last = await scan_page(self.users, limit, start, where=where)
        return [USERS.read(item) for item in items], last

    def add_user(self, uow: UnitOfWork, user: User) -> None:
        uow.create(self.users, _user_item(user), key="id")
        uow.create(
            self.users,
            {
                "id": _claim_id(user.email),
                "kind": "email-claim",
                "userId": user.id,
                "createdAt": user.created_at,
            },
            key="id",
            on_conflict=EmailTaken(),
        )

    async def update_user(
        self,
        user_id: str,
        changes: Changes,
        *,
        expected: Changes | None = None,
        bump_epoch: bool = False,
    ) -> User:
        """Change a user now; ``expected`` guards against a concurrent change
        (raises ``ConditionFailed`` when the user is gone or differs)."""
        expression, names, args = _update_expression(changes, bump_epoch=bump_epoch)
        condition = _condition(expected or {}, names, args)
        item = await self.users.update(
            {"id": user_id}, expression, condition=condition, names=names, values=args
        )
        return USERS.read(item)

    def stage_user_update(
        self, uow: UnitOfWork, user: User, changes: Changes, *, bump_epoch: bool = False
    ) -> None:
        """Change a user in ``uow``, only if nobody changed it since it was read."""
        expression, names, args = _update_expression(changes, bump_epoch=bump_epoch)
        condition = _condition({"version": user.version}, names, args)
        uow.update(
            self.users,
            {"id": user.id},
            expression,
            condition=condition,
            names=names,
            values=args,
            on_conflict=StaleVersion(),
        )

    # sessions ------------------------------------------------------------

    async def add_session(self, session: Session) -> None:
        await self.sessions.put(SESSIONS.item(session), condition="attribute_not_exists(id)")

    async def session(self, session_id: str) -> Session | None:
        item = await self.sessions.get({"id": session_id})
        return SESSIONS.read(item) if item else None

    async def extend_session(self, session_id: str, expires_at: int) -> bool:
        """Record a refresh; False when the session was revoked meanwhile."""
        try:
            await self.sessions.update(
                {"id": session_id},
                "SET expiresAt = :exp, lastRefreshedAt = :now",
                condition="#s = :active",
                names={"#s": "status"},
                values=values(exp=expires_at, now=now_iso(), active="active"),
            )
        except ConditionFailed:
            return False
        return True

    def stage_session_revoke(self, uow: UnitOfWork, session_id: str, reason: str) -> None:
        """Mark a session revoked in ``uow``; the commit raises ``ConditionFailed``
        when it is no longer active (someone else ended it)."""
        uow.update(
            self.sessions,
            {"id": session_id},
            "SET #s = :revoked, revokedAt = :now, revokedReason = :reason",
            condition="#s = :active",
            names={"#s": "status"},
            values=values(revoked="revoked", now=now_iso(), reason=reason, active="active"),
        )

    async def active_session_ids(self, user_id: str) -> list[str]:
        ids: list[str] = []
        start: Item | None = None
        now = int(time.time())
        while True:
            items, start = await self.sessions.query(
                "userId = :u",
                values=values(u=user_id, active="active", now=now),
                names={"#s": "status"},
                index="by-user",
                limit=100,
                start=start,
                filter_expression="#s = :active AND expiresAt > :now",
            )
            ids.extend(item["id"] for item in items)
            if start is None:
                return ids
