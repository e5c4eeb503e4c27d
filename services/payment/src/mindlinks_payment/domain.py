"""The payment rules and values: escrows, transactions and the contract
parties they belong to, with ids derived from the schedule items so that
opening a schedule twice finds what the first time made; payout accounts;
what counts as paid out; the problems the use cases raise.

Pure: no I/O, no FastAPI; ``service`` applies them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, get_args

# Re-exported: the states are the internal API's words, declared once.
from mindlinks_fleet.internal.payment import ChargeStatus as ChargeStatus
from mindlinks_fleet.internal.payment import EscrowState as EscrowState
from mindlinks_kit.clock import now_iso
from mindlinks_kit.errors import Conflict, Contention, InvalidInput, NotFound
from mindlinks_payment.providers import ConnectedAccount


class ScheduleNotFound(NotFound):
    """Unknown contracts and other people's contracts answer alike."""


class EscrowNotFound(NotFound):
    """Unknown escrows and other people's escrows answer alike."""


class EscrowNotFunded(Conflict):
    code = "escrow-not-funded"
    title = "The item has not been paid into escrow yet"


class EscrowAlreadyReleased(Conflict):
    code = "escrow-already-released"
    title = "The item was already released to the contractor"


class ReleaseConflict(Contention):
    """Another item of the contract settled between this settlement's read and
    its commit; the request is run again at once (``Idempotency.run``)."""

    code = "release-conflict"
    title = "Another item of this contract was released at the same moment; retry"


class ContractIdRequired(InvalidInput):
    code = "contract-id-required"
    title = "Admins list transactions per contract: give ?contractId="


class ContractorProfileMissing(Conflict):
    code = "contractor-profile-missing"
    title = "Finish contractor onboarding before opening a payout account"


class PayoutAccountNotFound(NotFound):
    code = "payout-account-not-found"
    title = "No payout account yet: open one first"


class PayoutAccountMissing(Conflict):
    code = "payout-account-missing"
    title = "The contractor has no payout account yet"


class PayoutAccountIncomplete(Conflict):
    code = "payout-account-incomplete"
    title = "The contractor's payout account cannot receive transfers yet"


Role = Literal["client", "contractor", "admin"]
CHARGE_STATUSES: tuple[ChargeStatus, ...] = get_args(ChargeStatus)
ESCROW_STATES: tuple[EscrowState, ...] = get_args(EscrowState)
UNSETTLED: tuple[ChargeStatus, ...] = ("requires_payment", "processing", "failed")
"""Charges that may still move: only ``succeeded`` is final (a ``failed`` charge
can be paid again with the same client secret, so it is not settled either)."""
_IDS = uuid.UUID("0c7b9c52-5f7e-4b4e-9b1e-2f6a3d8c1a47")


def escrow_id(contract_id: str, item_id: str) -> str:
    """Stable per schedule item: a redelivered activation finds what it made."""
    return "esc_" + uuid.uuid5(_IDS, f"escrow\0{contract_id}\0{item_id}").hex


AMENDMENT_POSITIONS = 1000
"""Positions per amendment: more than any schedule has items (at most 90)."""


def amended_position(number: int, index: int) -> int:
    """Where an item added by amendment ``number`` sorts in the schedule: after
    the first schedule's items (positions 0-89) and those of every earlier
    amendment, in the order of the new schedule (``index``: its place there).
    Kept items keep their positions, removed ones stay where they were."""
    return AMENDMENT_POSITIONS * number + index


def charge_id_for(contract_id: str, item_id: str) -> str:
    return "txn_" + uuid.uuid5(_IDS, f"charge\0{contract_id}\0{item_id}").hex


def transfer_id_for(escrow: str) -> str:
    return "txn_" + uuid.uuid5(_IDS, f"transfer\0{escrow}").hex


def refund_id_for(escrow: str) -> str:
    return "txn_" + uuid.uuid5(_IDS, f"refund\0{escrow}").hex


@dataclass(frozen=True)
class Caller:
    user_id: str
    role: str
    company_id: str | None = None
    """The company a member acts for (``None``: a contractor or an admin)."""
    moves_money: bool = False
    """Whether the member's company role moves money (``payments.move``):
    only then do they see the client secrets that pay the company's charges."""


@dataclass(frozen=True)
class Listing:
    """Where a caller's list (transactions, invoices) is read: an index, its
    key and value, and the party an item must name (``None``: all of them)."""

    index: str
    key: str
    value: str
    party: tuple[str, str] | None = None


def listing(caller: Caller, contract_id: str | None) -> Listing | None:
    """A member reads its company's, a contractor its own, an admin one
    contract's (``ContractIdRequired`` without one); ``None``: nothing to list."""
    if caller.role == "admin":
        if contract_id is None:
            raise ContractIdRequired()
        return Listing("by-contract", "contractId", contract_id)
    if caller.company_id is not None:
        party = ("clientCompanyId", caller.company_id)
    elif caller.role == "contractor":
        party = ("contractorUserId", caller.user_id)
    else:
        return None
    if contract_id is not None:
        # One contract's items all share its parties: all pass the filter or none.
        return Listing("by-contract", "contractId", contract_id, party)
    index = "by-client-company" if caller.company_id is not None else "by-contractor"
    return Listing(index, *party)


@dataclass(frozen=True)
class Parties:
    contract_id: str
    title: str
    client_company_id: str
    client_user_id: str
    contractor_id: str
    contractor_user_id: str

    def side(self, caller: Caller) -> Role | None:
        """How the caller sees this contract: as its client, its contractor, an admin, or not."""
        if caller.role == "admin":
            return "admin"
        if caller.company_id is not None and caller.company_id == self.client_company_id:
            return "client"
        if caller.role == "contractor" and caller.user_id == self.contractor_user_id:
            return "contractor"
        return None


Side = Literal["client", "contractor", "admin", "system"]
Ending = Literal["terminated", "amended"]
"""Why items end without a party's request: the contract's termination, or
an amendment in force that no longer owes them (the reason of their
cancellation or refund, in their history and events)."""


@dataclass(frozen=True)
class SubmissionFile:
    id: str
    name: str
    content_type: str
    size: int
    key: str
    """Its object in the ``escrow-submissions`` bucket."""


@dataclass(frozen=True)
class Submission:
    no: int
    note: str
    submitted_by_user_id: str
    submitted_at: str
    files: tuple[SubmissionFile, ...] = ()
    answer: str | None = None
    """The client's reason when it asked for changes to this submission."""


@dataclass(frozen=True)
class Dispute:
    opened_by_user_id: str
    opened_by_side: Side
    reason: str
    opened_at: str
    frozen_state: EscrowState


@dataclass(frozen=True)
class Proposal:
    """One party's offer to settle the item by agreement: ``refund_minor`` back
    to the client, the rest to the contractor; the other party accepts it."""

    refund_minor: int
    proposed_by_user_id: str
    proposed_by_side: Side
    proposed_at: str


@dataclass(frozen=True)
class Settlement:
    """Where the item's money goes, fixed when the settlement is claimed:
    ``released_minor + refunded_minor`` is the item's amount."""

    released_minor: int
    refunded_minor: int
    reason: str
    """``approved``, ``auto-release``, ``agreed``, ``dispute``, ``terminated``,
    ``amended`` (a removed item funded just before the amendment: ADR 0017)."""
    claim: str
    """Who claimed it (a request's idempotency key, a timer, an event): a retry
    of the same claim completes it, any other request is refused."""
    claimed_at: str
    by_user_id: str | None = None
    by_side: Side = "system"
    note: str | None = None
    """An admin's note on a resolution: the history's reason for its steps."""

    @property
    def outcome(self) -> Literal["released", "refunded", "split"]:
        if self.refunded_minor == 0:
            return "released"
        if self.released_minor == 0:
            return "refunded"
        return "split"


@dataclass(frozen=True)
class Escrow:
    id: str
    parties: Parties
    item_id: str
    position: int
    title: str
    amount_minor: int
    currency: str
    due_date: str
    state: EscrowState
    transaction_id: str
    payment_intent_id: str
    created_at: str
    updated_at: str
    version: int = 1
    charge_id: str | None = None
    transfer_id: str | None = None
    funded_at: str | None = None
    released_at: str | None = None
    review_days: int = 14
    submissions: tuple[Submission, ...] = ()
    review_due_at: str | None = None
    """While submitted: when it releases on its own."""
    dispute: Dispute | None = None
    proposal: Proposal | None = None
    settlement: Settlement | None = None
    refund_id: str | None = None
    settled_at: str | None = None

    @property
    def contract_id(self) -> str:
        return self.parties.contract_id


@dataclass(frozen=True)
class HistoryStep:
    """One step of an item's history, written with the state change it records."""

    escrow_id: str
    step_id: str
    at: str
    action: str
    to_state: EscrowState
    from_state: EscrowState | None = None
    by_user_id: str | None = None
    by_side: Side | None = None
    reason: str | None = None
    released_minor: int | None = None
    refunded_minor: int | None = None
    submission_no: int | None = None


@dataclass(frozen=True)
class Flag:
    """An operator's note that a transaction needs follow-up; it changes no money state."""

    reason: str
    flagged_by: str
    flagged_at: str


@dataclass(frozen=True)
class Transaction:
    id: str
    kind: Literal["charge", "transfer", "refund"]
    parties: Parties
    item_id: str
    escrow_id: str
    amount_minor: int
    currency: str
    status: ChargeStatus
    created_at: str
    updated_at: str
    version: int = 1
    payment_intent_id: str | None = None
    client_secret: str | None = None
    """Lets the client's dashboard confirm the intent; shown to the client party only."""
    charge_id: str | None = None
    transfer_id: str | None = None
    refund_id: str | None = None
    destination: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    flag: Flag | None = None
    """Carried through every rewrite of the item, so a status change keeps it."""

    @property
    def contract_id(self) -> str:
        return self.parties.contract_id


@dataclass(frozen=True)
class ScheduleView:
    contract_id: str
    side: Role
    items: list[tuple[Escrow, Transaction | None]]
    """Each escrow with its charge (only for the client side: the client secret)."""


def all_released(others: Sequence[Escrow]) -> bool:
    """Whether releasing one item pays out the contract: every other one is released."""
    return all(e.state == "released" for e in others)


@dataclass(frozen=True)
class PayoutAccount:
    contractor_id: str
    user_id: str
    account_id: str
    email: str
    created_at: str
    updated_at: str
    charges_enabled: bool = False
    payouts_enabled: bool = False
    details_submitted: bool = False
    transfers_active: bool = False
    version: int = 1

    def with_status(self, remote: ConnectedAccount) -> PayoutAccount:
        return replace(
            self,
            charges_enabled=remote.charges_enabled,
            payouts_enabled=remote.payouts_enabled,
            details_submitted=remote.details_submitted,
            transfers_active=remote.transfers_active,
            updated_at=now_iso(),
        )

    def same_status(self, other: PayoutAccount) -> bool:
        return (
            self.charges_enabled,
            self.payouts_enabled,
            self.details_submitted,
            self.transfers_active,
        ) == (
            other.charges_enabled,
            other.payouts_enabled,
            other.details_submitted,
            other.transfers_active,
        )
