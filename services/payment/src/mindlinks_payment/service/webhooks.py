"""Stripe's webhooks: verified with Stripe's own verifier, applied once per
Stripe event id, and turned into escrow states and our events.

- ``payment_intent.succeeded`` → the charge succeeded, the escrow is funded,
  ``payment.confirmed``;
- ``payment_intent.processing`` → the charge is processing (bank debits);
- ``payment_intent.payment_failed`` → the charge failed (the client may retry
  with the same client secret); no event;
- ``refund.updated``, ``refund.failed`` and ``charge.refunded`` (with the
  refund in it) → the refund record's status (the escrow was settled when the
  refund was created; a failed refund is for an operator: the transactions
  list shows it);
- anything else is acknowledged and ignored.

No FastAPI here; the route records the event id and commits.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Literal, Protocol

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mindlinks_fleet.events import PaymentConfirmed
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.errors import Problem
from mindlinks_kit.runtime import Publish
from mindlinks_payment.domain import Escrow, HistoryStep, Transaction
from mindlinks_payment.lifecycle import advance, history_step
from mindlinks_payment.service.settlement import with_status


class InvalidSignature(Problem):
    status = 400
    code = "invalid-signature"
    title = "The webhook signature is missing, invalid, too old or ahead of our clock"


class InvalidWebhookPayload(Problem):
    status = 400
    code = "invalid-webhook-payload"
    title = "The webhook body is not a Stripe event"


log = structlog.get_logger("mindlinks.stripe_webhooks")
Outcome = Literal["applied", "ignored"]


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="ignore")


class EventData(_Tolerant):
    object: dict[str, Any]


class StripeEvent(_Tolerant):
    id: str = Field(min_length=1)
    type: str
    data: EventData


class PaymentError(_Tolerant):
    code: str | None = None
    decline_code: str | None = None
    message: str | None = None


class PaymentIntentObject(_Tolerant):
    id: str
    amount: int
    currency: str
    status: str
    latest_charge: str | dict[str, Any] | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    last_payment_error: PaymentError | None = None

    @property
    def charge_id(self) -> str | None:
        charge = self.latest_charge
        if isinstance(charge, dict):
            found = charge.get("id")
            return str(found) if found else None
        return charge


class RefundObject(_Tolerant):
    id: str
    status: str | None = None
    payment_intent: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class RefundList(_Tolerant):
    data: list[RefundObject] = Field(default_factory=list)


class ChargeObject(_Tolerant):
    id: str
    payment_intent: str | None = None
    refunds: RefundList | None = None


def signed_at(signature: str) -> int:
    """The timestamp Stripe's verifier checked the signature over, read exactly
    as it reads it (the first ``t=``; reading another would let a second
    ``t=`` hide a signed future one)."""
    items = [item.split("=", 2) for item in signature.split(",")]
    return int(next(item[1] for item in items if item[0] == "t"))


def verify(
    payload: bytes, signature: str | None, secret: str, tolerance: int, now: float | None = None
) -> StripeEvent:
    """Stripe's own verifier (HMAC-SHA256 over ``t.payload``, not older than
    ``tolerance``), plus the check it lacks: not more than ``tolerance`` ahead
    of our clock (a pre-signed event would otherwise stay valid until then)."""
    import stripe  # on the first webhook: the SDK is a third of a second of import

    try:
        event = stripe.Webhook.construct_event(payload, signature, secret, tolerance=tolerance)
    except stripe.SignatureVerificationError:
        raise InvalidSignature() from None
    except ValueError:
        raise InvalidWebhookPayload() from None
    assert signature is not None  # the verifier refuses a missing header
    ahead = signed_at(signature) - (time.time() if now is None else now)
    if ahead > tolerance:
        log.warning("stripe.signed_in_the_future", seconds_ahead=int(ahead))
        raise InvalidSignature("The signature's timestamp is ahead of this service's clock")
    try:
        return StripeEvent.model_validate(event.to_dict())
    except ValidationError:
        raise InvalidWebhookPayload() from None


class Store(Protocol):
    async def escrow(self, escrow: str) -> Escrow | None: ...
    async def transaction(self, transaction: str) -> Transaction | None: ...
    async def transaction_by_intent(self, intent_id: str) -> Transaction | None: ...
    def replace_transaction(
        self, uow: UnitOfWork, transaction: Transaction, expected_version: int
    ) -> None: ...
    def advance_escrow(self, uow: UnitOfWork, before: Escrow, after: Escrow) -> None: ...
    def add_step(self, uow: UnitOfWork, step: HistoryStep) -> None: ...


class StripeEvents:
    def __init__(self, store: Store, publish: Publish) -> None:
        self.store = store
        self.publish = publish

    async def apply(self, event: StripeEvent, uow: UnitOfWork) -> Outcome:
        if event.type in ("refund.updated", "refund.failed", "charge.refunded"):
            return await self._refund_event(event, uow)
        handlers = {
            "payment_intent.succeeded": self._succeeded,
            "payment_intent.processing": self._processing,
            "payment_intent.payment_failed": self._failed,
        }
        handler = handlers.get(event.type)
        if handler is None:
            return "ignored"
        try:
            intent = PaymentIntentObject.model_validate(event.data.object)
        except ValidationError:
            log.warning("stripe.unreadable_intent", event_id=event.id, event_type=event.type)
            return "ignored"
        charge = await self._charge(intent)
        if charge is None:
            log.info("stripe.unknown_intent", event_id=event.id, intent_id=intent.id)
            return "ignored"
        return await handler(intent, charge, uow)

    async def _charge(self, intent: PaymentIntentObject) -> Transaction | None:
        """Our charge for an intent: by the id we put in its metadata, else by intent id."""
        reference = intent.metadata.get("transactionId")
        charge = await self.store.transaction(reference) if reference else None
        if charge is None:
            charge = await self.store.transaction_by_intent(intent.id)
        if charge is None or charge.kind != "charge" or charge.payment_intent_id != intent.id:
            return None
        return charge

    async def _succeeded(
        self, intent: PaymentIntentObject, charge: Transaction, uow: UnitOfWork
    ) -> Outcome:
        if intent.amount != charge.amount_minor or intent.currency.upper() != charge.currency:
            log.error(
                "stripe.amount_mismatch",
                intent_id=intent.id,
                transaction_id=charge.id,
                amount=intent.amount,
                currency=intent.currency,
            )
            return "ignored"
        if charge.status == "succeeded":
            return "ignored"
        escrow = await self.store.escrow(charge.escrow_id)
        if escrow is None:
            return "ignored"
        now = now_iso()
        self.store.replace_transaction(
            uow,
            replace(
                charge,
                status="succeeded",
                charge_id=intent.charge_id,
                failure_code=None,
                failure_message=None,
                updated_at=now,
            ),
            charge.version,
        )
        if escrow.state == "pending_funding":
            funded = advance(escrow, now, state="funded", charge_id=intent.charge_id, funded_at=now)
            self.store.advance_escrow(uow, escrow, funded)
            self.store.add_step(uow, history_step(escrow, funded, "funded", by_side="system"))
        self.publish(
            uow,
            "payment.confirmed",
            PaymentConfirmed(
                contract_id=charge.contract_id,
                item_id=charge.item_id,
                transaction_id=charge.id,
                escrow_id=charge.escrow_id,
                client_user_id=charge.parties.client_user_id,
                contractor_user_id=charge.parties.contractor_user_id,
                amount_minor=charge.amount_minor,
                currency=charge.currency,
                client_company_id=charge.parties.client_company_id,
            ),
        )
        log.info("payment.funded", escrow_id=escrow.id, intent_id=intent.id)
        return "applied"

    async def _processing(
        self, intent: PaymentIntentObject, charge: Transaction, uow: UnitOfWork
    ) -> Outcome:
        if charge.status not in ("requires_payment", "failed"):
            return "ignored"
        self.store.replace_transaction(
            uow, replace(charge, status="processing", updated_at=now_iso()), charge.version
        )
        return "applied"

    async def _failed(
        self, intent: PaymentIntentObject, charge: Transaction, uow: UnitOfWork
    ) -> Outcome:
        if charge.status == "succeeded":
            return "ignored"  # a late report of an earlier attempt
        error = intent.last_payment_error or PaymentError()
        self.store.replace_transaction(
            uow,
            replace(
                charge,
                status="failed",
                failure_code=error.decline_code or error.code,
                failure_message=error.message,
                updated_at=now_iso(),
            ),
            charge.version,
        )
        log.info(
            "payment.failed",
            transaction_id=charge.id,
            intent_id=intent.id,
            code=error.decline_code or error.code,
        )
        return "applied"

    async def _refund_event(self, event: StripeEvent, uow: UnitOfWork) -> Outcome:
        """A refund's new status, from the refund itself or from its charge."""
        try:
            if event.type == "charge.refunded":
                charge = ChargeObject.model_validate(event.data.object)
                refunds = charge.refunds.data if charge.refunds else []
            else:
                refunds = [RefundObject.model_validate(event.data.object)]
        except ValidationError:
            log.warning("stripe.unreadable_refund", event_id=event.id, event_type=event.type)
            return "ignored"
        applied: Outcome = "ignored"
        for refund in refunds:
            record = await self._refund_record(refund)
            if record is None or refund.status is None:
                continue
            updated = with_status(record, refund.status, now_iso())
            if updated is not None:
                self.store.replace_transaction(uow, updated, record.version)
                log.info("refund.status", refund_id=refund.id, status=updated.status)
                applied = "applied"
        return applied

    async def _refund_record(self, refund: RefundObject) -> Transaction | None:
        reference = refund.metadata.get("transactionId")
        record = await self.store.transaction(reference) if reference else None
        if record is None or record.kind != "refund" or record.refund_id != refund.id:
            return None
        return record
