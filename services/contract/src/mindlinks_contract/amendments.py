"""The amendment rules (issue 16, ADR 0017): when an active contract may be
amended, what an amendment changes, which payment items it keeps, adds and
removes, and its own small status machine (signed in order like the
contract; ``fully_signed`` is in force).

No FastAPI here, no I/O; ``service.amendments`` commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mindlinks_contract.domain import Contract, InvalidTransition, Side
from mindlinks_contract.terms import Line, schedule
from mindlinks_fleet.internal.contract import AmendmentStatus
from mindlinks_fleet.money import format_money
from mindlinks_kit.errors import Conflict, InvalidInput, NotFound

OPEN: frozenset[AmendmentStatus] = frozenset({"sent_for_signature", "client_signed"})
"""An amendment still to be signed: one per contract at a time."""
MOVES: Mapping[AmendmentStatus, frozenset[AmendmentStatus]] = {
    "sent_for_signature": frozenset({"client_signed", "declined", "withdrawn"}),
    "client_signed": frozenset({"fully_signed", "declined", "withdrawn"}),
    "fully_signed": frozenset(),
    "declined": frozenset(),
    "withdrawn": frozenset(),
}
PARTY_MOVES: frozenset[tuple[Side, AmendmentStatus]] = frozenset(
    {
        ("client", "client_signed"),
        ("client", "declined"),
        ("contractor", "fully_signed"),
        ("contractor", "declined"),
    }
)
"""Which side makes which of the signature service's moves."""
UNTOUCHED_STATE = "pending_funding"
"""The only escrow state an amendment may remove or change an item in."""


class AmendmentNotFound(NotFound):
    code = "amendment-not-found"
    title = "Amendment not found"


class ContractNotAmendable(Conflict):
    code = "contract-not-amendable"
    title = "Only an active contract with no termination under way can be amended"


class AmendmentOpen(Conflict):
    code = "amendment-open"
    title = "Another amendment of this contract is still open (to be signed, declined or withdrawn)"


class AmendmentChangesNothing(InvalidInput):
    code = "amendment-changes-nothing"
    title = "The amendment must change the scope, the end date or the payment terms"


class AmendmentChangesFundedItem(Conflict):
    """ADR 0017: money held or moved for an item keeps the terms it was funded under."""

    code = "amendment-changes-funded-item"
    title = "The amendment would change or remove a payment that is funded or settled"

    def __init__(self, items: Sequence[tuple[str, str]]) -> None:
        names = ", ".join(f"{item} ({state})" for item, state in items)
        super().__init__(
            f"Keep these items exactly as they are, or settle them first (approve and "
            f"release, or agree a refund), then amend: {names}",
            items=[{"itemId": item, "state": state} for item, state in items],
        )


class AmendmentDatesInvalid(InvalidInput):
    code = "amendment-dates-invalid"
    title = "Every due date must fall between the contract's start date and its end date"


class AmendmentNotSignable(Conflict):
    code = "amendment-not-signable"
    title = "This amendment cannot move that way in its current status"


@dataclass(frozen=True)
class Version:
    """What one version of a contract's terms fixes (besides its parties)."""

    description: str
    end_date: str | None
    terms: dict[str, Any]
    total_minor: int
    item_ids: tuple[str, ...]
    """The payment items of ``terms``' lines, in order."""


@dataclass(frozen=True)
class Proposal:
    """What the client asks to change (``None``: as it is)."""

    reason: str
    description: str | None = None
    end_date: str | None = None
    clear_end_date: bool = False
    terms: dict[str, Any] | None = None


@dataclass(frozen=True)
class Step:
    """One entry of an amendment's history."""

    to_status: AmendmentStatus
    at: str
    actor_user_id: str | None
    reason: str | None = None


@dataclass(frozen=True)
class Amendment:
    contract_id: str
    number: int
    """1, 2, … per contract; it makes terms version ``number + 1``."""
    status: AmendmentStatus
    reason: str
    proposed_by_user_id: str
    proposed_at: str
    previous: Version
    proposed: Version
    added_item_ids: tuple[str, ...]
    removed_item_ids: tuple[str, ...]
    pdf_key: str
    pdf_sha256: str
    final_pdf_key: str | None = None
    final_pdf_sha256: str | None = None
    in_force_at: str | None = None
    signature_ids: tuple[str, ...] = ()
    ledger_entry_ids: tuple[int, ...] = ()
    history: tuple[Step, ...] = field(default_factory=tuple)
    version: int = 1

    @property
    def terms_version(self) -> int:
        return self.number + 1

    def moved(
        self, to: AmendmentStatus, *, at: str, actor_user_id: str | None, **changes: Any
    ) -> Amendment:
        if to not in MOVES[self.status]:
            raise AmendmentNotSignable(
                f"A {self.status.replace('_', ' ')} amendment cannot be {to}"
            )
        step = Step(to, at, actor_user_id, changes.pop("reason", None))
        return replace(
            self,
            status=to,
            history=(*self.history, step),
            version=self.version + 1,
            **changes,
        )

    def already_moved_by(self, to: AmendmentStatus, actor_user_id: str) -> bool:
        """The last step was exactly this one (a retry after a crash)."""
        last = self.history[-1] if self.history else None
        return self.status == to and last is not None and last.actor_user_id == actor_user_id


def item_ids(contract: Contract) -> tuple[str, ...]:
    """The contract's items in force: as activation named them
    (``<id>-<index>``) until an amendment named them."""
    if contract.item_ids:
        return contract.item_ids
    return tuple(f"{contract.id}-{i}" for i in range(len(schedule(contract.terms, ""))))


def current_version(contract: Contract) -> Version:
    return Version(
        description=contract.description,
        end_date=contract.end_date,
        terms=contract.terms,
        total_minor=contract.total_minor,
        item_ids=item_ids(contract),
    )


def check_amendable(contract: Contract) -> None:
    if contract.status != "active" or contract.termination_ends_at is not None:
        ending = " and ending" if contract.termination_ends_at else ""
        raise ContractNotAmendable(f"The contract is {contract.status}{ending}")
    if contract.open_amendment is not None:
        raise AmendmentOpen(f"Amendment {contract.open_amendment} is still open")


def check_dates(start_date: str, end_date: str | None, lines: Sequence[Line]) -> None:
    """Due dates on or after the start, on or before the end (when there is one)."""
    if end_date is not None and end_date < start_date:
        raise AmendmentDatesInvalid(f"The end date {end_date} is before the start {start_date}")
    for line in lines:
        if line.due_date < start_date or (end_date is not None and line.due_date > end_date):
            raise AmendmentDatesInvalid(f"{line.title!r} is due {line.due_date}")


def matched_items(
    contract_id: str,
    number: int,
    current: Sequence[Line],
    current_ids: Sequence[str],
    proposed: Sequence[Line],
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(the proposed lines' item ids, the added ones, the removed ones).

    A proposed line identical to a line in force (title, amount, due date)
    keeps that item, each at most once and in order; any other is a new item,
    ``<contractId>-a<number>-<index>``. An item's terms never change under it."""
    unused = list(zip(current, current_ids, strict=True))
    ids: list[str] = []
    added: list[str] = []
    for index, line in enumerate(proposed):
        match = next((pair for pair in unused if pair[0] == line), None)
        if match is not None:
            unused.remove(match)
            ids.append(match[1])
        else:
            new = f"{contract_id}-a{number}-{index}"
            ids.append(new)
            added.append(new)
    return tuple(ids), tuple(added), tuple(item for _, item in unused)


def check_funded(removed: Sequence[str], states: Mapping[str, str]) -> None:
    """ADR 0017: only items whose money is untouched may go (an item payment
    has not opened yet is untouched)."""
    touched = [(i, states[i]) for i in removed if states.get(i, UNTOUCHED_STATE) != UNTOUCHED_STATE]
    if touched:
        raise AmendmentChangesFundedItem(touched)


def proposed_version(
    contract: Contract, proposal: Proposal, number: int
) -> tuple[Version, tuple[str, ...], tuple[str, ...]]:
    """The version ``proposal`` makes of the one in force, with the items it
    adds and removes; refused when it changes nothing or its dates do not fit."""
    now = current_version(contract)
    terms = proposal.terms if proposal.terms is not None else now.terms
    end_date = None if proposal.clear_end_date else (proposal.end_date or now.end_date)
    description = proposal.description if proposal.description is not None else now.description
    lines = schedule(terms, contract.title)
    check_dates(contract.start_date, end_date, lines)
    ids, added, removed = matched_items(
        contract.id, number, schedule(now.terms, contract.title), now.item_ids, lines
    )
    version = Version(
        description=description,
        end_date=end_date,
        terms=terms,
        total_minor=sum(line.amount_minor for line in lines),
        item_ids=ids,
    )
    if (version.description, version.end_date, version.terms) == (
        now.description,
        now.end_date,
        now.terms,
    ):
        raise AmendmentChangesNothing()
    return version, added, removed


def changes_in_words(
    contract: Contract, previous: Version, proposed: Version, currency: str
) -> list[str]:
    """What the amendment's PDF lists under "What changes"."""
    said: list[str] = []
    if proposed.description != previous.description:
        said.append("The scope (description) is replaced by the one below.")
    if proposed.end_date != previous.end_date:
        said.append(f"End date: {previous.end_date or 'none'} → {proposed.end_date or 'none'}.")
    before = dict(zip(previous.item_ids, schedule(previous.terms, contract.title), strict=True))
    after = dict(zip(proposed.item_ids, schedule(proposed.terms, contract.title), strict=True))
    for item, line in before.items():
        if item not in after:
            said.append(
                f"Removed: {line.title} ({format_money(line.amount_minor, currency)}, "
                f"due {line.due_date})."
            )
    for item, line in after.items():
        if item not in before:
            said.append(
                f"Added: {line.title} ({format_money(line.amount_minor, currency)}, "
                f"due {line.due_date})."
            )
    if proposed.total_minor != previous.total_minor:
        said.append(
            f"Total: {format_money(previous.total_minor, currency)} → "
            f"{format_money(proposed.total_minor, currency)}."
        )
    return said


def in_force(contract: Contract, amendment: Amendment, *, at: str) -> Contract:
    """The contract under ``amendment``'s terms from ``at``."""
    terms = amendment.proposed
    return replace(
        contract,
        description=terms.description,
        end_date=terms.end_date,
        terms=terms.terms,
        total_minor=terms.total_minor,
        item_ids=terms.item_ids,
        terms_version=amendment.terms_version,
        open_amendment=None,
        updated_at=at,
        version=contract.version + 1,
    )


def closed(contract: Contract, *, at: str) -> Contract:
    """The contract with its open amendment declined or withdrawn."""
    return replace(contract, open_amendment=None, updated_at=at, version=contract.version + 1)


def check_in_force_possible(contract: Contract) -> None:
    """The contractor's signature puts it in force only on a contract still active."""
    if contract.status != "active" or contract.termination_ends_at is not None:
        raise InvalidTransition(
            f"The contract is {contract.status}"
            + (" and ending" if contract.termination_ends_at else "")
            + ": the amendment can no longer take effect"
        )
