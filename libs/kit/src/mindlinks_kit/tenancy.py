"""Members acting for tenants: ``acting(action)`` resolves which tenant a
request acts for and refuses a role the fleet's permission table does not
allow (``Fleet.tenancy``).

Memberships are the owner service's data. Every other service asks the owner
(one internal call per user) and keeps the answer for ``ttl_seconds``; a
membership change is a revocation event of ``Tenancy.claim`` for the user,
so a cached answer older than the user's newest such revocation is dropped
and asked again. A removed member is therefore refused within the
revocation refresh (seconds), with no membership carried in the token and no
call per request.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request

from mindlinks_kit.auth import Principal, current_user
from mindlinks_kit.context import current
from mindlinks_kit.declaration import Tenancy
from mindlinks_kit.errors import Forbidden


@dataclass(frozen=True)
class Membership:
    tenant_id: str
    role: str


class MembershipAnswer(Protocol):
    """What the tenancy's lookup route answers."""

    def memberships(self) -> Sequence[tuple[str, str]]: ...


Source = Callable[[str], Awaitable[Sequence[Membership]]]
"""A user's memberships, from wherever they are kept."""


class Changes(Protocol):
    """When a user's memberships last changed (``Revocations`` is one)."""

    async def fresh(self) -> None: ...
    def revoked_at_ms(self, claim: str, value: str) -> int | None: ...


class Members:
    """One process's view of memberships: its source's answers, remembered
    per user until they expire or the user's memberships change."""

    def __init__(
        self,
        tenancy: Tenancy,
        source: Source | None,
        revocations: Changes | None,
        *,
        ttl_seconds: float,
        max_users: int = 10_000,
    ) -> None:
        self.tenancy = tenancy
        self.source = source
        self.revocations = revocations
        self.ttl_seconds = ttl_seconds
        self.max_users = max_users
        self._known: OrderedDict[str, tuple[float, float, int, tuple[Membership, ...]]] = (
            OrderedDict()
        )

    async def of(self, user_id: str, *, max_age: float | None = None) -> tuple[Membership, ...]:
        """The user's memberships: remembered, unless older than ``max_age``
        seconds (when given), expired, or changed since they were read."""
        now = time.monotonic()
        known = self._known.get(user_id)
        if known is not None:
            expires, read_at, fetched_ms, memberships = known
            young = max_age is None or now - read_at <= max_age
            if now < expires and young and not await self._changed_since(user_id, fetched_ms):
                return memberships
        # Stamped before the read: a change during the read is newer, so the
        # next check asks again rather than keeping what the read missed.
        fetched_ms = int(time.time() * 1000)
        if self.source is None:
            raise RuntimeError("the tenancy's owner gives its members their source at setup")
        memberships = tuple(await self.source(user_id))
        if self.ttl_seconds > 0:
            self._known[user_id] = (now + self.ttl_seconds, now, fetched_ms, memberships)
            self._known.move_to_end(user_id)
            while len(self._known) > self.max_users:
                self._known.popitem(last=False)
        return memberships

    def forget(self, user_id: str) -> None:
        self._known.pop(user_id, None)

    async def _changed_since(self, user_id: str, fetched_ms: int) -> bool:
        if self.revocations is None:
            return False
        await self.revocations.fresh()
        # ``occurredAt`` has milliseconds and clocks differ a little: a change
        # in the same second as the read counts as newer (the safe side).
        changed_ms = self.revocations.revoked_at_ms(self.tenancy.claim, user_id)
        return changed_ms is not None and changed_ms >= fetched_ms - 1000


def peer_source(lookup: Callable[[str], Awaitable[MembershipAnswer | None]]) -> Source:
    """Memberships asked of the owner service (``Peers.call`` on the lookup)."""

    async def source(user_id: str) -> Sequence[Membership]:
        answer = await lookup(user_id)
        if answer is None:
            return ()
        return tuple(Membership(tenant, role) for tenant, role in answer.memberships())

    return source


@dataclass(frozen=True)
class Acting:
    """Who acts, and for which tenant in which role (both ``None`` for an
    account of another platform role that a route also lets in)."""

    principal: Principal
    tenant_id: str | None
    role: str | None

    @property
    def user_id(self) -> str:
        return self.principal.user_id

    @property
    def member(self) -> bool:
        return self.tenant_id is not None


def _members(request: Request) -> Members:
    members: Members | None = request.app.state.runtime.members
    if members is None:
        raise RuntimeError("this fleet declares no tenancy")
    return members


RECHECK_SECONDS = 1.0
"""How old a remembered answer may be before a missing membership is asked again."""


def _tenants(memberships: Sequence[Membership]) -> set[str]:
    return {m.tenant_id for m in memberships}


async def resolve(
    members: Members, principal: Principal, action: str, wanted: str | None
) -> Acting:
    """The membership a request acts through, or the tenancy's refusal."""
    tenancy = members.tenancy
    memberships = await members.of(principal.user_id)
    if not memberships or (wanted is not None and wanted not in _tenants(memberships)):
        # Joining a company is not a revocation event (it would fan out to
        # every service at each registration): what is missing is asked
        # again instead, at most once a second per user, so probing foreign
        # ids cannot turn into a call per request.
        memberships = await members.of(principal.user_id, max_age=RECHECK_SECONDS)
    if wanted is not None:
        chosen = next((m for m in memberships if m.tenant_id == wanted), None)
        if chosen is None:
            raise tenancy.not_found()
    elif len(memberships) == 1:
        chosen = memberships[0]
    elif not memberships:
        raise tenancy.none()
    else:
        raise tenancy.ambiguous()
    allowed = tenancy.permissions[action]
    if chosen.role not in allowed:
        raise tenancy.refused(
            f"{action} needs the role {' or '.join(allowed)}; yours is {chosen.role}"
        )
    ctx = current.get()
    if ctx is not None:
        ctx.tenant_id = chosen.tenant_id
    return Acting(principal, chosen.tenant_id, chosen.role)


def acting_or(action: str, *other_roles: str) -> Callable[..., Awaitable[Acting]]:
    """A dependency: a member whose tenant role allows ``action`` (for the
    tenant the request names), or an account of one of ``other_roles`` (a
    contractor reading a contract, an admin), let in as itself."""

    async def check(
        request: Request, principal: Annotated[Principal, Depends(current_user)]
    ) -> Acting:
        members = _members(request)
        tenancy = members.tenancy
        if principal.role in other_roles:
            return Acting(principal, None, None)
        if principal.role != tenancy.account_role:
            wanted = (tenancy.account_role, *other_roles)
            raise Forbidden(f"This action needs the role {' or '.join(wanted)}")
        header = request.headers.get(tenancy.header)
        return await resolve(members, principal, action, header.strip() if header else None)

    check.tenant_action = action  # type: ignore[attr-defined]  # read by the API map and start-up
    check.other_roles = other_roles  # type: ignore[attr-defined]
    return check


def acting(action: str) -> Callable[..., Awaitable[Acting]]:
    """A dependency: a member whose tenant role allows ``action``."""
    return acting_or(action)


def declared_actions(routes: Sequence[Any]) -> set[str]:
    """Every action the app's routes name (for the start-up check)."""
    found: set[str] = set()
    for route in routes:
        dependant = getattr(route, "dependant", None)
        stack = [dependant] if dependant is not None else []
        while stack:
            node = stack.pop()
            action = getattr(node.call, "tenant_action", None)
            if action is not None:
                found.add(action)
            stack.extend(node.dependencies)
    return found
