"""Members acting for tenants: which tenant a request acts for, which roles
an action allows, and how long a process may trust what it was told."""

from __future__ import annotations

import time
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI

from mindlinks_kit.app import check_actions
from mindlinks_kit.auth import Principal
from mindlinks_kit.declaration import Call, Fleet, Service, Tenancy
from mindlinks_kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from mindlinks_kit.internal import api_routes
from mindlinks_kit.openapi import document_problems, tenant_action
from mindlinks_kit.schemas import ApiModel
from mindlinks_kit.tenancy import Acting, Members, Membership, acting, acting_or, resolve


class Answer(ApiModel):
    items: list[tuple[str, str]]

    def memberships(self) -> list[tuple[str, str]]:
        return self.items


class NoTenant(Conflict):
    code = "no-tenant"


class Which(InvalidInput):
    status = 400
    code = "which-tenant"


class UnknownTenant(NotFound):
    code = "tenant-not-found"


class RoleRefused(Forbidden):
    code = "role-refused"


LOOKUP = Call("org", "GET", "/internal/org/members/{user_id}", Answer, callers=("app",))
TENANCY = Tenancy(
    owner="org",
    lookup=LOOKUP,
    header="X-Tenant",
    account_role="member",
    roles=("boss", "clerk"),
    permissions={"books.read": ("boss", "clerk"), "books.write": ("boss",)},
    claim="tenant-member",
    none=NoTenant,
    ambiguous=Which,
    not_found=UnknownTenant,
    refused=RoleRefused,
)


class Clock:
    """Membership changes as a ``Revocations`` copy reports them."""

    def __init__(self) -> None:
        self.changed: dict[str, int] = {}
        self.refreshed = 0

    async def fresh(self) -> None:
        self.refreshed += 1

    def revoked_at_ms(self, claim: str, value: str) -> int | None:
        assert claim == "tenant-member"
        return self.changed.get(value)


class Source:
    def __init__(self) -> None:
        self.known: dict[str, list[Membership]] = {}
        self.asked = 0

    async def __call__(self, user_id: str) -> Sequence[Membership]:
        self.asked += 1
        return list(self.known.get(user_id, []))


def _principal(user_id: str = "u1", role: str = "member") -> Principal:
    return Principal(user_id=user_id, role=role, session_id=None, token="t")


async def test_one_membership_needs_no_header_and_the_role_decides() -> None:
    source = Source()
    source.known["u1"] = [Membership("t1", "clerk")]
    members = Members(TENANCY, source, None, ttl_seconds=60)
    acting = await resolve(members, _principal(), "books.read", None)
    assert (acting.tenant_id, acting.role, acting.user_id) == ("t1", "clerk", "u1")
    with pytest.raises(RoleRefused) as refused:
        await resolve(members, _principal(), "books.write", None)
    assert "books.write needs the role boss; yours is clerk" in refused.value.detail


async def test_several_memberships_need_the_header_and_a_stranger_tenant_is_unknown() -> None:
    source = Source()
    source.known["u1"] = [Membership("t1", "clerk"), Membership("t2", "boss")]
    members = Members(TENANCY, source, None, ttl_seconds=60)
    with pytest.raises(Which):
        await resolve(members, _principal(), "books.read", None)
    assert (await resolve(members, _principal(), "books.write", "t2")).tenant_id == "t2"
    with pytest.raises(UnknownTenant):
        await resolve(members, _principal(), "books.read", "t3")
    with pytest.raises(NoTenant):
        await resolve(members, _principal("u2"), "books.read", None)
    with pytest.raises(UnknownTenant):
        await resolve(members, _principal("u2"), "books.read", "t1")


async def test_answers_are_kept_until_they_expire_or_the_user_changes() -> None:
    source, changes = Source(), Clock()
    source.known["u1"] = [Membership("t1", "boss")]
    members = Members(TENANCY, source, changes, ttl_seconds=60)
    await members.of("u1")
    await members.of("u1")
    assert source.asked == 1
    source.known["u1"] = []  # removed, and the removal is a revocation event
    changes.changed["u1"] = int(time.time() * 1000)
    assert await members.of("u1") == ()
    assert source.asked == 2
    assert changes.refreshed >= 2
    await members.of("u1")
    assert source.asked == 3  # a change in the same second as the read counts as newer
    changes.changed["u1"] -= 5000
    await members.of("u1")
    assert source.asked == 3  # an entry read well after the change stays
    expired = Members(TENANCY, source, changes, ttl_seconds=0)
    await expired.of("u1")
    await expired.of("u1")
    assert source.asked == 5  # ttl 0: the owner reads its own table every time


async def test_the_cache_is_bounded() -> None:
    source = Source()
    members = Members(TENANCY, source, None, ttl_seconds=60, max_users=2)
    for user in ("a", "b", "c"):
        await members.of(user)
    await members.of("a")
    assert source.asked == 4  # "a" was the oldest, dropped for "c"


def test_the_fleet_refuses_a_tenancy_that_does_not_add_up() -> None:
    services = (Service("org", 1, "org"), Service("app", 2, "app", peers=("org",)))
    kwargs = {"name": "f", "services": services, "events": (), "routes": (LOOKUP,)}
    with pytest.raises(ValueError, match="claim"):
        Fleet(**kwargs, tenancy=TENANCY)  # type: ignore[arg-type]
    bad = Tenancy(**{**TENANCY.__dict__, "permissions": {"x": ("nobody",)}})
    with pytest.raises(ValueError, match="unknown tenant roles"):
        Fleet(**kwargs, tenancy=bad)  # type: ignore[arg-type]


def test_routes_acting_for_a_tenant_document_its_header_and_refusals() -> None:
    app = FastAPI()
    router = APIRouter()

    @router.post("/books")
    async def write(who: Annotated[Acting, Depends(acting("books.write"))]) -> None:
        """A boss writes the books."""

    @router.get("/books")
    async def read(who: Annotated[Acting, Depends(acting_or("books.read", "auditor"))]) -> None:
        """Anyone of the tenant reads them, and so does an auditor."""

    @router.get("/open")
    async def open_route() -> None:
        """No tenant here."""

    app.include_router(router)
    document_problems(app, TENANCY)
    paths = app.openapi()["paths"]
    written = paths["/books"]["post"]
    [header] = [p for p in written["parameters"] if p["in"] == "header"]
    assert (header["name"], header["required"]) == ("X-Tenant", False)
    assert "`books.write`: roles boss." in header["description"]
    assert written["x-tenant-action"] == "books.write"
    for status, code in (("400", "which-tenant"), ("403", "role-refused")):
        assert f"`{code}`" in written["responses"][status]["description"]
    for status, code in (("404", "tenant-not-found"), ("409", "no-tenant")):
        response = written["responses"][status]
        assert f"`{code}`" in response["description"]
        assert "application/problem+json" in response["content"]
    assert (
        "auditor accounts act as themselves"
        in paths["/books"]["get"]["parameters"][0]["description"]
    )
    opened = paths["/open"]["get"]
    assert "parameters" not in opened
    assert "x-tenant-action" not in opened
    assert "400" not in opened["responses"]
    assert [tenant_action(r) for r in api_routes(app.routes)] == [
        "books.write",
        "books.read",
        None,
    ]


def test_a_route_naming_an_undeclared_action_stops_the_start() -> None:
    """Routers included lazily are checked too (their routes are not the app's own)."""
    app = FastAPI()
    router = APIRouter()

    @router.get("/books/burn")
    async def burn(who: Annotated[Acting, Depends(acting("books.burn"))]) -> None:
        """Not in the permission table."""

    app.include_router(router)
    fleet = SimpleNamespace(tenancy=TENANCY)
    with pytest.raises(RuntimeError, match=r"undeclared actions \['books.burn'\]"):
        check_actions(app, fleet, "app")  # type: ignore[arg-type]
    router.routes.clear()

    @router.get("/books")
    async def read(who: Annotated[Acting, Depends(acting("books.read"))]) -> None:
        """Declared, and ``app`` may ask ``org`` for memberships."""

    check_actions(app, fleet, "app")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="may not call"):
        check_actions(app, fleet, "stranger")  # type: ignore[arg-type]


async def test_a_missing_membership_is_asked_again_at_most_once_a_second() -> None:
    # Joining is not a revocation event: a company the remembered answer lacks
    # (or an empty answer) is asked again, so a new member acts at once.
    source = Source()
    members = Members(TENANCY, source, Clock(), ttl_seconds=60)
    with pytest.raises(NoTenant):
        await resolve(members, _principal(), "books.read", None)
    assert source.asked == 1  # the first answer is fresh: not asked twice
    source.known["u1"] = [Membership("t1", "clerk")]
    await members.of("u1", max_age=0)  # as if a second had passed
    source.known["u1"].append(Membership("t2", "boss"))
    members._known["u1"] = (
        time.monotonic() + 60,
        time.monotonic() - 2,
        0,
        (Membership("t1", "clerk"),),
    )
    acting = await resolve(members, _principal(), "books.write", "t2")
    assert acting.tenant_id == "t2"
    asked = source.asked
    for _ in range(5):  # probing a foreign tenant: the answer is young, not asked again
        with pytest.raises(UnknownTenant):
            await resolve(members, _principal(), "books.read", "t9")
    assert source.asked == asked
