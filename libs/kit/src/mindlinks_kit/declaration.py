"""The vocabulary of a fleet declaration.

A fleet is declared once (in ``mindlinks_fleet``) with these types; the local
bootstrap, docker-compose, Terraform variables and IAM resource lists are all
derived from it. Nothing here names a business noun: tables, queues and events
are just shapes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from mindlinks_kit.errors import Problem

KeyType = Literal["S", "N"]
Method = Literal["GET", "POST", "PUT", "DELETE"]
A = TypeVar("A")
INTERNAL_PREFIX = "/internal/"
"""Where every internal route lives; the edge never routes it."""
EVERY_SERVICE = "*"
"""As a route's owner: the kit mounts it on every service. As a caller: any
service of the fleet may call it."""
_PARAMETER = re.compile(r"\{([a-z_]+)\}")
_TIMER_NAME = re.compile(r"[a-z][a-z0-9.-]{0,63}")


@dataclass(frozen=True)
class Key:
    name: str
    type: KeyType = "S"


@dataclass(frozen=True)
class Index:
    name: str
    pk: Key
    sk: Key | None = None


@dataclass(frozen=True)
class Table:
    """A DynamoDB table owned by exactly one service (logical name, unprefixed)."""

    name: str
    pk: Key = Key("pk")
    sk: Key | None = None
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    append_only: bool = False
    """Items are only ever created: the owner's IAM role gets no update or
    delete on it (an audit trail nobody, not even its service, can rewrite)."""


@dataclass(frozen=True)
class Bucket:
    name: str
    object_lock: bool = False


@dataclass(frozen=True)
class Sizing:
    """ECS task size and autoscaling bounds."""

    cpu: int = 256
    memory: int = 512
    min_tasks: int = 1
    max_tasks: int = 5


@dataclass(frozen=True)
class Event:
    """One entry of the event catalog: name (the EventBridge detail-type),
    the producing service and the payload schema."""

    name: str
    producer: str
    payload: type[BaseModel]
    version: int = 1


class NoPayload(BaseModel):
    """A timer's payload when it carries none."""


@dataclass(frozen=True)
class Timer:
    """A durable timer a service sets and handles itself (``mindlinks_kit.timers``):
    at most one pending per (name, key); it fires its handler once at its due
    time, through the service's own queue."""

    name: str
    payload: type[BaseModel] = NoPayload


@dataclass(frozen=True)
class Route(Generic[A]):
    """One internal (service-to-service) route, declared once: the owner mounts
    it (``mindlinks_kit.internal.serve``), its callers call it
    (``Peers.call``), and only ``callers`` get past its token check."""

    owner: str
    method: Method
    path: str
    """``/internal/...`` with ``{name}`` parameters, filled in order by callers."""
    answer: type[A]
    """The 2xx body's model (the owner's ``response_model``), or ``bytes``."""
    callers: tuple[str, ...]
    body: type[BaseModel] | None = None
    """The request body's model, when it takes JSON; ``bytes`` routes say
    ``content_type`` instead."""
    content_type: str | None = None
    status: int = 200
    refusals: tuple[type[Problem], ...] = ()
    """The refusals that mean something to callers: a peer's problem with one's
    status and code is raised to the caller as that class (the owner raises
    the same classes), so callers never map codes by hand."""
    authenticated: bool = True
    """False only for the route where a service gets its token."""
    summary: str = ""

    @cached_property
    def parameters(self) -> tuple[str, ...]:
        return tuple(_PARAMETER.findall(self.path))

    def allows(self, caller: str) -> bool:
        """Whether ``caller`` is a declared caller (every service may be)."""
        return caller in self.callers or EVERY_SERVICE in self.callers

    def key(self) -> tuple[str, str]:
        return self.method, self.path

    def fill(self, *parameters: str) -> str:
        """The path with ``parameters`` in order, each one path segment."""
        if len(parameters) != len(self.parameters):
            raise ValueError(f"{self.path} takes {len(self.parameters)} path parameters")
        values = {n: quote(v, safe="") for n, v in zip(self.parameters, parameters, strict=True)}
        return self.path.format_map(values)


@dataclass(frozen=True)
class Call(Route[A]):
    """A route whose 404 is a refusal like any other."""


@dataclass(frozen=True)
class Lookup(Route[A]):
    """A route whose 404 means "there is none": callers get ``None``."""


# Tables every producer and every consumer gets, derived rather than declared
# so that no service can forget them.
OUTBOX = Table(
    "outbox",
    pk=Key("id"),
    indexes=(Index("pending", pk=Key("pendingShard"), sk=Key("createdAt")),),
    ttl_attribute="expiresAt",
)
INBOX = Table("inbox", pk=Key("eventId"), ttl_attribute="expiresAt")
IDEMPOTENCY = Table("idempotency", pk=Key("key"), ttl_attribute="expiresAt")
REVOCATIONS = Table("revocations", pk=Key("subject"), ttl_attribute="expiresAt")
TIMERS = Table(
    "timers",
    pk=Key("id"),
    indexes=(
        # Sparse: an item is on "due" until it is handed to the queue by the
        # sweep, on "unscheduled" until its schedule exists (AWS only).
        Index("due", pk=Key("dueShard"), sk=Key("dueAt")),
        Index("unscheduled", pk=Key("scheduleShard"), sk=Key("dueAt")),
    ),
)


@dataclass(frozen=True)
class Revocation:
    """An event after which some access tokens are refused fleet-wide: those
    whose ``claim`` equals a value the payload names in ``field`` (a string
    or a list of strings). Every service must consume it; the kit handles it."""

    event: str
    claim: str = "sub"
    field: str = "userId"
    permanent: bool = False
    """True when a revoked value never becomes valid again (an id that is
    never reused): every token naming it is refused, whenever it was issued.
    False: only tokens issued up to the revocation (later ones are good)."""


@dataclass(frozen=True)
class Tenancy:
    """Accounts that act for a tenant (an organisation with members), each
    with a role there, and which tenant roles may do which action. The kit's
    ``acting(action)`` enforces it; the owner serves ``lookup`` (a user's
    memberships) and publishes a revocation of ``claim`` for the user on
    every membership change, so each service's cached copy is dropped."""

    owner: str
    """The service that keeps memberships."""
    lookup: Call[Any]
    """Owner's route: one user's memberships; its answer has ``memberships()``
    giving (tenant id, role) pairs."""
    header: str
    """Names the tenant a request acts for, when the account has several."""
    account_role: str
    """The platform role of every member's account."""
    roles: tuple[str, ...]
    permissions: Mapping[str, tuple[str, ...]]
    """Action → tenant roles allowed."""
    claim: str
    """The revocation claim that says a user's memberships changed."""
    none: type[Problem]
    """Raised when the account belongs to no tenant."""
    ambiguous: type[Problem]
    """Raised when it belongs to several and the header is missing."""
    not_found: type[Problem]
    """Raised for a tenant the account is not a member of (as for an unknown one)."""
    refused: type[Problem]
    """Raised when the member's role does not allow the action."""


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    area: str
    """Public path area: the service owns ``/v1/<area>/...`` at the edge."""
    tables: tuple[Table, ...] = ()
    buckets: tuple[Bucket, ...] = ()
    peers: tuple[str, ...] = ()
    consumes: tuple[str, ...] = ()
    redis: bool = False
    extra_public_paths: tuple[str, ...] = ()
    """Exact public paths outside ``/v1/<area>`` the edge routes to this service."""
    sizing: Sizing = field(default_factory=Sizing)
    max_receives: int = 5
    """Deliveries of one message before it is dead-lettered."""
    idempotent_posts: bool = False
    """Accepts ``Idempotency-Key`` on creating POSTs (gets an ``idempotency`` table)."""
    timers: tuple[Timer, ...] = ()
    """The durable timers it sets and handles (gets a ``timers`` table, and a
    queue even when it consumes no event: its timers fire there)."""
    signing_keys: tuple[str, ...] = ()
    """Asymmetric KMS keys (RSA 3072, ``SIGN_VERIFY``) that this service alone
    signs with, each as alias ``<prefix><service>-<name>``, with a secret
    ``<service>/<name>-certificates`` holding the key's certificate chain
    (configuration: the CA that certifies the key is outside the fleet)."""

    def owned_tables(self, publishes: bool, revocations: tuple[str, ...] = ()) -> tuple[Table, ...]:
        derived: list[Table] = []
        if publishes:
            derived.append(OUTBOX)
        if self.consumes:
            derived.append(INBOX)
        if set(revocations) & set(self.consumes):
            derived.append(REVOCATIONS)
        if self.idempotent_posts:
            derived.append(IDEMPOTENCY)
        if self.timers:
            derived.append(TIMERS)
        return self.tables + tuple(derived)

    @property
    def queue(self) -> str | None:
        return self.name if self.consumes or self.timers else None

    def timer(self, name: str) -> Timer:
        for timer in self.timers:
            if timer.name == name:
                return timer
        raise KeyError(f"{self.name} declares no timer {name!r}")


@dataclass(frozen=True)
class Fleet:
    name: str
    services: tuple[Service, ...]
    events: tuple[Event, ...]
    bus: str = "mindlinks"
    operator: str | None = None
    """The service that may call every service's ``/internal/ops`` routes."""
    revocations: tuple[Revocation, ...] = ()
    """The events after which access tokens are refused (a suspended subject,
    an ended session). Every service must consume them; the kit handles them,
    so a revoked token stops working fleet-wide within seconds rather than at
    expiry."""
    step_up_roles: tuple[str, ...] = ()
    """Roles whose tokens count only when the user signed in with a second
    factor (``amr`` has ``mfa``); elsewhere such a token is refused (403)."""
    routes: tuple[Route[Any], ...] = ()
    """The internal API: every ``/internal`` route, its owner and its callers."""
    token_route: Call[Any] | None = None
    """The route (among ``routes``) where a service gets its service token."""
    tenancy: Tenancy | None = None
    """Members acting for tenants, with roles (``mindlinks_kit.tenancy``)."""

    def __post_init__(self) -> None:
        names = [s.name for s in self.services]
        if len(set(names)) != len(names):
            raise ValueError("service names must be unique")
        ports = [s.port for s in self.services]
        if len(set(ports)) != len(ports):
            raise ValueError("service ports must be unique")
        known_events = {e.name for e in self.events}
        for event in self.events:
            if event.producer not in names:
                raise ValueError(f"event {event.name} has unknown producer {event.producer}")
        if self.operator is not None and self.operator not in names:
            raise ValueError(f"operator {self.operator} is not a service")
        for revocation in self.revocations:
            if revocation.event not in known_events:
                raise ValueError(f"revocation event {revocation.event} is not in the catalog")
        for service in self.services:
            unknown = set(service.consumes) - known_events
            if unknown:
                raise ValueError(f"{service.name} consumes unknown events {sorted(unknown)}")
            for revocation in self.revocations:
                if revocation.event not in service.consumes:
                    raise ValueError(f"{service.name} must consume {revocation.event}")
            timers = [t.name for t in service.timers]
            if len(set(timers)) != len(timers) or not all(_TIMER_NAME.fullmatch(t) for t in timers):
                raise ValueError(f"{service.name}'s timer names must be unique, like a.b-c")
            unknown_peers = set(service.peers) - set(names)
            if unknown_peers:
                raise ValueError(f"{service.name} names unknown peers {sorted(unknown_peers)}")
        self._check_routes(names)
        self._check_tenancy(names)

    def _check_tenancy(self, names: list[str]) -> None:
        tenancy = self.tenancy
        if tenancy is None:
            return
        if tenancy.owner not in names or tenancy.lookup.owner != tenancy.owner:
            raise ValueError("the tenancy's owner must be a service and serve its lookup")
        if tenancy.lookup not in self.routes:
            raise ValueError("the tenancy's lookup must be one of the fleet's routes")
        for action, allowed in tenancy.permissions.items():
            unknown = set(allowed) - set(tenancy.roles)
            if unknown or not allowed:
                raise ValueError(f"action {action} names unknown tenant roles {sorted(unknown)}")
        if not any(r.claim == tenancy.claim for r in self.revocations):
            raise ValueError(f"no revocation event names the tenancy's claim {tenancy.claim}")

    def _check_routes(self, names: list[str]) -> None:
        seen: set[tuple[str, str]] = set()
        for route in self.routes:
            if route.key() in seen:
                raise ValueError(f"route {route.method} {route.path} is declared twice")
            seen.add(route.key())
            if not route.path.startswith(INTERNAL_PREFIX):
                raise ValueError(f"internal route {route.path} must start with {INTERNAL_PREFIX}")
            if route.owner not in (*names, EVERY_SERVICE):
                raise ValueError(f"route {route.path} has unknown owner {route.owner}")
            unknown = set(route.callers) - {*names, EVERY_SERVICE}
            if unknown or not route.callers:
                raise ValueError(f"route {route.path} names unknown callers {sorted(unknown)}")
            if route.owner != EVERY_SERVICE and route.owner in route.callers:
                raise ValueError(f"route {route.path}: {route.owner} does not call itself")
        if self.token_route is not None and self.token_route not in self.routes:
            raise ValueError("the token route must be one of the fleet's routes")
        if not self.routes:
            return  # a fleet that has not declared its internal API (the kit's toy fleets)
        for service in self.services:
            called: set[str] = set()
            for route in self.routes:
                if service.name in route.callers:
                    called |= set(names) if route.owner == EVERY_SERVICE else {route.owner}
            called.discard(service.name)
            declared = set(service.peers)
            if self.token_route is not None:
                # Every service calls it: its service tokens come from there.
                called.discard(self.token_route.owner)
                declared.discard(self.token_route.owner)
            if called != declared:
                raise ValueError(
                    f"{service.name} declares peers {sorted(service.peers)} but may call "
                    f"routes of {sorted(called)}: the two must agree"
                )

    def service(self, name: str) -> Service:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)

    def event(self, name: str) -> Event:
        for event in self.events:
            if event.name == name:
                return event
        raise KeyError(name)

    def routes_of(self, owner: str) -> tuple[Route[Any], ...]:
        """The internal routes ``owner`` mounts (its own and the kit's)."""
        return tuple(r for r in self.routes if r.owner in (owner, EVERY_SERVICE))

    def publishes(self, service: str) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.producer == service)

    def consumers(self, event: str) -> tuple[str, ...]:
        return tuple(s.name for s in self.services if event in s.consumes)

    def tables(self, service: str) -> tuple[Table, ...]:
        spec = self.service(service)
        return spec.owned_tables(
            publishes=bool(self.publishes(service)),
            revocations=tuple(r.event for r in self.revocations),
        )
