"""The payment service's internal API: the operator's transactions and escrow
across tenants, and flagging a transaction for follow-up."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from mindlinks_kit.declaration import Call
from mindlinks_kit.schemas import MULTI_LINE, ApiModel, Id, Page


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

ROUTES = (TRANSACTIONS, TRANSACTION, ESCROW, FLAG)
