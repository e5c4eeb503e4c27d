"""The payment service's response bodies (camelCase on the wire)."""

from __future__ import annotations

from mindlinks_fleet.internal.payment import (
    EscrowOut,
    OperatorEscrowOut,
    OperatorTransactionOut,
    TransactionOut,
)
from mindlinks_kit.schemas import ApiModel
from mindlinks_payment.domain import Escrow, PayoutAccount, ScheduleView, Transaction
from mindlinks_payment.providers import AccountLink


class ScheduleItemOut(ApiModel):
    item_id: str
    title: str
    amount_minor: int
    currency: str
    due_date: str
    escrow_id: str
    escrow_state: str
    transaction_id: str
    payment_intent_id: str
    client_secret: str | None = None
    """Only for the client party, while the item awaits payment: confirm it with Stripe.js."""
    transfer_id: str | None = None
    funded_at: str | None = None
    released_at: str | None = None


class ScheduleOut(ApiModel):
    contract_id: str
    items: list[ScheduleItemOut]
    all_released: bool

    @classmethod
    def of(cls, view: ScheduleView) -> ScheduleOut:
        items = []
        for escrow, charge in view.items:
            secret = None
            if view.side == "client" and escrow.state == "pending_funding" and charge is not None:
                secret = charge.client_secret if charge.status != "succeeded" else None
            items.append(
                ScheduleItemOut(
                    item_id=escrow.item_id,
                    title=escrow.title,
                    amount_minor=escrow.amount_minor,
                    currency=escrow.currency,
                    due_date=escrow.due_date,
                    escrow_id=escrow.id,
                    escrow_state=escrow.state,
                    transaction_id=escrow.transaction_id,
                    payment_intent_id=escrow.payment_intent_id,
                    client_secret=secret,
                    transfer_id=escrow.transfer_id,
                    funded_at=escrow.funded_at,
                    released_at=escrow.released_at,
                )
            )
        return cls(
            contract_id=view.contract_id,
            items=items,
            all_released=bool(items) and all(i.escrow_state == "released" for i in items),
        )


class PayoutAccountOut(ApiModel):
    account_id: str
    contractor_id: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    transfers_active: bool
    """Releases can be paid to it."""
    onboarding_url: str | None = None
    """Stripe's hosted onboarding (single use, expires within minutes)."""
    onboarding_expires_at: int | None = None

    @classmethod
    def of(cls, a: PayoutAccount, link: AccountLink | None = None) -> PayoutAccountOut:
        return cls(
            account_id=a.account_id,
            contractor_id=a.contractor_id,
            charges_enabled=a.charges_enabled,
            payouts_enabled=a.payouts_enabled,
            details_submitted=a.details_submitted,
            transfers_active=a.transfers_active,
            onboarding_url=link.url if link else None,
            onboarding_expires_at=link.expires_at if link else None,
        )


class WebhookAck(ApiModel):
    received: bool = True
    duplicate: bool = False
    outcome: str


class LocalSettlement(ApiModel):
    event_id: str
    type: str
    redelivered: bool
    webhook_status: int


class LocalAccount(ApiModel):
    account_id: str
    transfers_active: bool
    payouts_enabled: bool


# internal (the admin service) -------------------------------------------------


def transaction_out(t: Transaction) -> TransactionOut:
    return TransactionOut.model_validate(t, from_attributes=True)


def escrow_out(e: Escrow) -> EscrowOut:
    return EscrowOut.model_validate(e, from_attributes=True)


def operator_transaction_out(t: Transaction) -> OperatorTransactionOut:
    return OperatorTransactionOut.model_validate(t, from_attributes=True)


def operator_escrow_out(e: Escrow) -> OperatorEscrowOut:
    return OperatorEscrowOut.model_validate(e, from_attributes=True)
