"""The payment service's objects: escrows, transactions and the contract
parties they belong to, with ids derived from the schedule items so that
opening a schedule twice finds what the first time made."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal, get_args

from mindlinks_fleet.events import ContractParties

Role = Literal["client", "contractor", "admin"]
EscrowState = Literal["pending_funding", "funded", "released"]
ChargeStatus = Literal["requires_payment", "processing", "succeeded", "failed"]
CHARGE_STATUSES: tuple[ChargeStatus, ...] = get_args(ChargeStatus)
ESCROW_STATES: tuple[EscrowState, ...] = get_args(EscrowState)
UNSETTLED: tuple[ChargeStatus, ...] = ("requires_payment", "processing", "failed")
"""Charges that may still move: only ``succeeded`` is final (a ``failed`` charge
can be paid again with the same client secret, so it is not settled either)."""
_IDS = uuid.UUID("0c7b9c52-5f7e-4b4e-9b1e-2f6a3d8c1a47")


def escrow_id(contract_id: str, item_id: str) -> str:
    """Stable per schedule item: a redelivered activation finds what it made."""
    return "esc_" + uuid.uuid5(_IDS, f"escrow\0{contract_id}\0{item_id}").hex


def charge_id_for(contract_id: str, item_id: str) -> str:
    return "txn_" + uuid.uuid5(_IDS, f"charge\0{contract_id}\0{item_id}").hex


def transfer_id_for(escrow: str) -> str:
    return "txn_" + uuid.uuid5(_IDS, f"transfer\0{escrow}").hex


@dataclass(frozen=True)
class Caller:
    user_id: str
    role: str


@dataclass(frozen=True)
class Parties:
    contract_id: str
    title: str
    client_company_id: str
    client_user_id: str
    contractor_id: str
    contractor_user_id: str

    @classmethod
    def of(cls, event: ContractParties) -> Parties:
        return cls(
            contract_id=event.contract_id,
            title=event.title,
            client_company_id=event.client_company_id,
            client_user_id=event.client_user_id,
            contractor_id=event.contractor_id,
            contractor_user_id=event.contractor_user_id,
        )

    def side(self, caller: Caller) -> Role | None:
        """How the caller sees this contract: as its client, its contractor, an admin, or not."""
        if caller.role == "admin":
            return "admin"
        if caller.role == "client" and caller.user_id == self.client_user_id:
            return "client"
        if caller.role == "contractor" and caller.user_id == self.contractor_user_id:
            return "contractor"
        return None


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

    @property
    def contract_id(self) -> str:
        return self.parties.contract_id


@dataclass(frozen=True)
class Flag:
    """An operator's note that a transaction needs follow-up; it changes no money state."""

    reason: str
    flagged_by: str
    flagged_at: str


@dataclass(frozen=True)
class Transaction:
    id: str
    kind: Literal["charge", "transfer"]
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
