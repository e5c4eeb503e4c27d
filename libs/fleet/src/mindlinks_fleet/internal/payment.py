"""The payment service's internal API: the operator's transactions and escrow
across tenants, and flagging a transaction for follow-up."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from mindlinks_kit.declaration import Call
from mindlinks_kit.schemas import MULTI_LINE, ApiModel, Id, Page

EscrowState = Literal[
    "pending_funding",
    "funded",
    "submitted",
    "changes_requested",
    "disputed",
    "settling",
    "released",
    "refunded",
    "split",
    "cancelled",
]
"""An escrowed item's states (docs/lifecycle.md draws the machine): the
admin's filters and payment's rules speak the same words."""
ChargeStatus = Literal["requires_payment", "processing", "succeeded", "failed"]


class TransactionOut(ApiModel):
    id: str
    kind: str
    """``charge`` (the client pays into escrow) or ``transfer`` (a release to the contractor)."""
    contract_id: str
    item_id: str
    escrow_id: str
    amount_minor: int
    currency: str
    status: str
    payment_intent_id: str | None = None
    transfer_id: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    created_at: str
    updated_at: str


class EscrowOut(ApiModel):
    id: str
    contract_id: str
    item_id: str
    amount_minor: int
    currency: str
    state: str
    transfer_id: str | None
    funded_at: str | None
    released_at: str | None


class FlagRequest(ApiModel):
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), MULTI_LINE
    ]
    flagged_by: Id
    """The admin user who flags it."""


class FlagOut(ApiModel):
    reason: str
    flagged_by: str
    flagged_at: str


class PartiesOut(ApiModel):
    client_company_id: str
    client_user_id: str
    contractor_id: str
    contractor_user_id: str


class OperatorTransactionOut(TransactionOut):
    """A transaction as the admin service sees it: with its parties and flag
    (still never a client secret)."""

    parties: PartiesOut
    flag: FlagOut | None


class OperatorEscrowOut(EscrowOut):
    position: int
    title: str
    due_date: str
    transaction_id: str
    payment_intent_id: str
    charge_id: str | None
    parties: PartiesOut
    created_at: str
    updated_at: str


class EscrowHistoryStep(ApiModel):
    """One step of an escrowed item's history (append-only, in order)."""

    at: str
    action: str
    """``opened``, ``funded``, ``submitted``, ``changes-requested``, ``reminded``,
    ``disputed``, ``settling``, ``released``, ``refunded``, ``split``,
    ``cancelled``, ``agreement-proposed``, ``agreement-accepted``, ..."""
    from_state: str | None = None
    to_state: str
    by_user_id: str | None = None
    """``None`` when no one acted (a webhook, a timer, a termination's effect)."""
    by_side: str | None = None
    """``client``, ``contractor``, ``admin`` or ``system``."""
    reason: str | None = None
    released_minor: int | None = None
    refunded_minor: int | None = None
    submission_no: int | None = None


class OperatorEscrowDetail(OperatorEscrowOut):
    """One item as the admin's escrow view shows it: its state and its history."""

    history: list[EscrowHistoryStep]


Outcome = Literal["release", "refund", "split"]


class ResolutionRequest(ApiModel):
    """An admin's resolution of a disputed item: all to the contractor, all
    back to the client, or a split in minor units (``releasedMinor`` to the
    contractor, the rest refunded)."""

    outcome: Outcome
    released_minor: int | None = None
    """Required for ``split``: strictly between 0 and the item's amount."""
    note: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), MULTI_LINE
    ]
    resolved_by: Id
    """The admin user who resolves it."""


TRANSACTIONS = Call(
    "payment",
    "GET",
    "/internal/payments/transactions",
    Page[OperatorTransactionOut],
    callers=("admin",),
    summary="Transactions across tenants with their flags; or the stuck ones.",
)
TRANSACTION = Call(
    "payment",
    "GET",
    "/internal/payments/transactions/{transaction_id}",
    OperatorTransactionOut,
    callers=("admin",),
    summary="One transaction as the list shows it, with its flag.",
)
ESCROW = Call(
    "payment",
    "GET",
    "/internal/payments/escrow",
    Page[OperatorEscrowOut],
    callers=("admin",),
    summary="Escrow items across tenants.",
)
FLAG = Call(
    "payment",
    "POST",
    "/internal/payments/transactions/{transaction_id}/flag",
    OperatorTransactionOut,
    callers=("admin",),
    body=FlagRequest,
    summary="Flag a transaction for follow-up (its status and money stay as they are).",
)

ESCROW_DETAIL = Call(
    "payment",
    "GET",
    "/internal/payments/escrow/{escrow_id}",
    OperatorEscrowDetail,
    callers=("admin",),
    summary="One escrowed item with its whole history.",
)
RESOLVE = Call(
    "payment",
    "POST",
    "/internal/payments/escrow/{escrow_id}/resolution",
    OperatorEscrowDetail,
    callers=("admin",),
    body=ResolutionRequest,
    summary="Resolve a disputed item: release, refund, or split in minor units.",
)


class ItemStateOut(ApiModel):
    item_id: str
    state: EscrowState
    amount_minor: int


class ContractItemsOut(ApiModel):
    """Where each of a contract's escrowed items stands (none before activation)."""

    contract_id: str
    items: list[ItemStateOut]


CONTRACT_ITEMS = Call(
    "payment",
    "GET",
    "/internal/payments/contracts/{contract_id}/items",
    ContractItemsOut,
    callers=("contract",),
    summary="A contract's items and their escrow states (for amendments).",
)

ROUTES = (TRANSACTIONS, TRANSACTION, ESCROW, FLAG, ESCROW_DETAIL, RESOLVE, CONTRACT_ITEMS)
