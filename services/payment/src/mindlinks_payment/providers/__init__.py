"""Outside services the payment service moves money through.

Stripe, in the "separate charges and transfers" model: a PaymentIntent per
schedule item settles to the platform balance (the escrow); a release is a
Transfer to the contractor's Express connected account; a refund gives
(part of) the charge back to the client. ``StripeProvider`` is
the real adapter (Stripe's own SDK on its async httpx client);
``LocalStripe`` stands in for Stripe in local mode and drives the same
signed webhooks. Both implement ``PaymentsProvider``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from mindlinks_kit.errors import Problem


class PaymentDeclined(Problem):
    status = 402
    code = "payment-declined"
    title = "The payment was declined"


class ProviderRefused(Problem):
    status = 502
    code = "payment-provider-refused"
    title = "The payment provider refused the request"


class ProviderUnavailable(Problem):
    status = 503
    code = "payment-provider-unavailable"
    title = "The payment provider is unavailable; retry shortly"

    def __init__(self, detail: str | None = None, **extensions: object) -> None:
        super().__init__(detail, **extensions)
        self.headers["Retry-After"] = "5"


@dataclass(frozen=True)
class Intent:
    id: str
    client_secret: str
    status: str


@dataclass(frozen=True)
class Transfer:
    id: str
    amount_minor: int
    currency: str
    destination: str


@dataclass(frozen=True)
class Refund:
    id: str
    amount_minor: int
    status: str
    """Stripe's: ``pending``, ``requires_action``, ``succeeded``, ``failed`` or ``canceled``."""


@dataclass(frozen=True)
class ConnectedAccount:
    id: str
    charges_enabled: bool = False
    payouts_enabled: bool = False
    details_submitted: bool = False
    transfers_active: bool = False
    """The ``transfers`` capability is active: transfers to it will be accepted."""


@dataclass(frozen=True)
class AccountLink:
    url: str
    expires_at: int


class PaymentsProvider(Protocol):
    """What the payment service needs from Stripe. Every creating call takes an
    idempotency key derived from our own ids, so a retry (ours, the SDK's, a
    redelivered event) returns the object the first attempt created."""

    async def create_intent(
        self,
        *,
        amount_minor: int,
        currency: str,
        transfer_group: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> Intent: ...

    async def create_transfer(
        self,
        *,
        amount_minor: int,
        currency: str,
        destination: str,
        transfer_group: str,
        source_transaction: str | None,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> Transfer: ...

    async def create_refund(
        self,
        *,
        payment_intent: str,
        amount_minor: int,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> Refund:
        """Give ``amount_minor`` of a succeeded intent's charge back to the payer."""
        ...

    async def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> None:
        """Cancel an intent nobody paid (a succeeded one: ``ProviderRefused``)."""
        ...

    async def find_transfer(self, *, transfer_group: str, escrow_id: str) -> Transfer | None:
        """The transfer made for an escrow (by its ``metadata[escrowId]``), if any:
        Stripe forgets idempotency keys after 24 hours, so a late retry looks first."""
        ...

    async def find_refund(self, *, payment_intent: str, escrow_id: str) -> Refund | None:
        """The refund made for an escrow on its intent, if any (as ``find_transfer``)."""
        ...

    async def create_express_account(
        self, *, email: str, metadata: Mapping[str, str], idempotency_key: str
    ) -> ConnectedAccount: ...

    async def create_account_link(
        self, *, account_id: str, refresh_url: str, return_url: str
    ) -> AccountLink: ...

    async def retrieve_account(self, account_id: str) -> ConnectedAccount: ...
