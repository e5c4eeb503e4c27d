"""The admin service's values and the problems its use cases raise: the
views that gather one person, company or contract from several services
(with ``partial`` for what did not answer), the fleet view, who acts and how
a change went, the audit trail's filters.

Pure: no I/O, no FastAPI; ``service`` builds and applies them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mindlinks_admin.peers import Missing, Record
from mindlinks_kit.errors import Conflict, InvalidInput, NotFound


class UserNotFound(NotFound):
    code = "user-not-found"
    title = "No such user"


class CompanyNotFound(NotFound):
    code = "company-not-found"
    title = "No such company"


class ContractorNotFound(NotFound):
    code = "contractor-not-found"
    title = "No such contractor"


class CannotSuspendSelf(Conflict):
    code = "cannot-suspend-self"
    title = "Admins cannot suspend their own account"


class ContractNotFound(NotFound):
    code = "contract-not-found"
    title = "No such contract"


class EscrowNotFound(NotFound):
    code = "escrow-not-found"
    title = "No such escrowed item"


class InvalidSplit(InvalidInput):
    code = "invalid-split"
    title = "A split releases part of the item: more than 0, less than its amount"


class UnknownQueue(InvalidInput):
    code = "unknown-queue"
    title = "No such service queue"


@dataclass
class UserView:
    account: Record | None
    profile: Record | None
    company: Record | None
    contractor: Record | None
    kyc: list[Record] | None
    contracts: list[Record] | None
    partial: list[Missing] = field(default_factory=list)


@dataclass
class CompanyView:
    company: Record
    owner: Record | None
    partial: list[Missing] = field(default_factory=list)


@dataclass
class ContractorView:
    contractor: Record
    account: Record | None
    kyc: list[Record] | None
    partial: list[Missing] = field(default_factory=list)


@dataclass
class EscrowView:
    escrow: Record
    """The item as payment holds it, with its history (``OperatorEscrowDetail``)."""
    journal: list[Record] | None
    """The item's ledger entries, oldest first."""
    partial: list[Missing] = field(default_factory=list)


def split_fault(outcome: str, released_minor: int | None, amount_minor: Any) -> str | None:
    """What is wrong with a resolution's amounts, if anything (``amount_minor``:
    the item's, when payment told it)."""
    if outcome != "split":
        return None if released_minor is None else "releasedMinor goes only with a split"
    if released_minor is None:
        return "a split needs releasedMinor: what the contractor gets"
    if isinstance(amount_minor, int) and not 0 < released_minor < amount_minor:
        return f"releasedMinor must be more than 0 and less than the item's {amount_minor}"
    return None


@dataclass
class ContractView:
    contract: Record
    signatures: list[Record] | None
    history: list[Record] | None
    partial: list[Missing] = field(default_factory=list)


@dataclass
class Probe:
    """One service as the fleet view saw it."""

    service: str
    live: bool
    ready: bool
    version: str | None = None
    latency_ms: float | None = None
    breakers: dict[str, str] | None = None
    outbox_backlog: int | None = None
    queue: Record | None = None
    revoked_subjects: int | None = None
    error: str | None = None
    """Why it is not live: ``timeout``, ``unavailable``, ``circuit-open``, ``refused``."""
    details: list[str] = field(default_factory=list)


@dataclass
class FleetView:
    services: list[Probe]
    checked_at: str
    partial: list[Missing]


@dataclass
class QueueRow:
    """A consuming service's queue (``None``: the service did not say)."""

    service: str
    depth: int | None
    in_flight: int | None
    dead_letters: int | None


@dataclass(frozen=True)
class Actor:
    """Who acts: the admin's user id."""

    user_id: str


@dataclass(frozen=True)
class Outcome:
    """How one target of a change went: ``after`` on success, else ``error``."""

    after: Any = None
    error: Any = None


@dataclass(frozen=True)
class Filters:
    actor_user_id: str | None = None
    target: str | None = None
    action: str | None = None

    @property
    def scope(self) -> str:
        return f"audit\0{self.actor_user_id or ''}\0{self.target or ''}\0{self.action or ''}"
