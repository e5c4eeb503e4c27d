"""The real Stripe adapter: Stripe's own SDK (``StripeClient``) with its async
httpx transport, on the process's shared ``httpx.AsyncClient`` — so nothing
blocks the event loop and tests fake Stripe at the HTTP layer (respx).

Separate charges and transfers (Connect):
https://docs.stripe.com/connect/separate-charges-and-transfers
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import stripe
import structlog

from mindlinks_payment.providers import (
    AccountLink,
    ConnectedAccount,
    Intent,
    PaymentDeclined,
    ProviderRefused,
    ProviderUnavailable,
    Refund,
    Transfer,
)

log = structlog.get_logger("mindlinks.stripe")


class SharedHTTPXClient(stripe.HTTPXClient):
    """Stripe's async HTTPX transport on the process's shared client (one
    connection pool per process; the app's lifespan closes it, not Stripe)."""

    def __init__(self, client: httpx.AsyncClient, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._client_async = client

    def _get_request_args_kwargs(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any
    ) -> Any:
        # The SDK hands httpx its encoded form as ``data=``; httpx wants raw
        # bodies as ``content=`` (and warns on every request otherwise).
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        data = kwargs.pop("data", None)
        if data:
            kwargs["content"] = data
        return args, kwargs

    async def close_async(self) -> None:
        return None


@contextlib.contextmanager
def stripe_errors(operation: str) -> Iterator[None]:
    """Stripe's errors as problems: declines 402, refusals 502, outages 503."""
    try:
        yield
    except stripe.CardError as exc:
        error = exc.error
        raise PaymentDeclined(
            exc.user_message or "The card was declined",
            providerCode=exc.code,
            declineCode=error.decline_code if error is not None else None,
        ) from None
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
        log.warning(
            "stripe.unavailable",
            operation=operation,
            error=type(exc).__name__,
            status=exc.http_status,
            request_id=exc.request_id,
        )
        reason = f"status {exc.http_status}" if exc.http_status else type(exc).__name__
        raise ProviderUnavailable(f"Stripe is unavailable ({reason})") from None
    except (stripe.AuthenticationError, stripe.PermissionError) as exc:
        log.error(
            "stripe.credentials_refused",
            operation=operation,
            status=exc.http_status,
            request_id=exc.request_id,
        )
        raise ProviderRefused(
            "Stripe refused the platform's credentials", providerStatus=exc.http_status
        ) from None
    except stripe.StripeError as exc:
        log.warning(
            "stripe.refused",
            operation=operation,
            status=exc.http_status,
            code=exc.code,
            request_id=exc.request_id,
        )
        raise ProviderRefused(
            f"Stripe refused to {operation}: {exc.user_message or 'no detail'}",
            providerStatus=exc.http_status,
            providerCode=exc.code,
        ) from None


def _id(field: Any) -> str | None:
    """An expandable field's id (Stripe sends either the id or the object)."""
    if field is None or isinstance(field, str):
        return field
    return str(field.id)


def _escrow_of(obj: Any) -> str | None:
    """The ``metadata[escrowId]`` we put on a transfer or refund."""
    metadata = obj.metadata or {}
    return str(metadata["escrowId"]) if "escrowId" in metadata else None


def connected_account(account: stripe.Account) -> ConnectedAccount:
    capabilities = account.capabilities
    return ConnectedAccount(
        id=account.id,
        charges_enabled=bool(account.charges_enabled),
        payouts_enabled=bool(account.payouts_enabled),
        details_submitted=bool(account.details_submitted),
        transfers_active=capabilities is not None and capabilities.transfers == "active",
    )


class StripeProvider:
    def __init__(self, client: stripe.StripeClient) -> None:
        self.client = client

    @classmethod
    def connect(
        cls, *, api_key: str, http: httpx.AsyncClient, timeout: float, max_network_retries: int
    ) -> StripeProvider:
        return cls(
            stripe.StripeClient(
                api_key,
                http_client=SharedHTTPXClient(http, timeout),
                max_network_retries=max_network_retries,
            )
        )

    async def create_intent(
        self,
        *,
        amount_minor: int,
        currency: str,
        transfer_group: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> Intent:
        with stripe_errors("create the payment"):
            intent = await self.client.v1.payment_intents.create_async(
                {
                    "amount": amount_minor,
                    "currency": currency.lower(),
                    "transfer_group": transfer_group,
                    "metadata": dict(metadata),
                    "automatic_payment_methods": {"enabled": True},
                },
                {"idempotency_key": idempotency_key},
            )
        if not intent.client_secret:
            raise ProviderRefused("Stripe returned a payment without a client secret")
        return Intent(id=intent.id, client_secret=intent.client_secret, status=intent.status)

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
    ) -> Transfer:
        params: stripe.params.TransferCreateParams = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "destination": destination,
            "transfer_group": transfer_group,
            "metadata": dict(metadata),
        }
        if source_transaction:
            # Ties the transfer to the charge: it goes out even while the
            # charge's funds are still pending in the platform balance.
            params["source_transaction"] = source_transaction
        with stripe_errors("transfer the funds"):
            transfer = await self.client.v1.transfers.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        return Transfer(
            id=transfer.id,
            amount_minor=transfer.amount,
            currency=transfer.currency.upper(),
            destination=_id(transfer.destination) or destination,
        )

    async def create_refund(
        self,
        *,
        payment_intent: str,
        amount_minor: int,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> Refund:
        with stripe_errors("refund the payment"):
            refund = await self.client.v1.refunds.create_async(
                {
                    "payment_intent": payment_intent,
                    "amount": amount_minor,
                    "metadata": dict(metadata),
                },
                {"idempotency_key": idempotency_key},
            )
        return Refund(id=refund.id, amount_minor=refund.amount, status=refund.status or "pending")

    async def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> None:
        with stripe_errors("cancel the payment"):
            await self.client.v1.payment_intents.cancel_async(
                intent_id,
                {"cancellation_reason": "abandoned"},
                {"idempotency_key": idempotency_key},
            )

    async def find_transfer(self, *, transfer_group: str, escrow_id: str) -> Transfer | None:
        with stripe_errors("look up the transfer"):
            found = await self.client.v1.transfers.list_async(
                {"transfer_group": transfer_group, "limit": 100}
            )
        for transfer in found.data:
            if _escrow_of(transfer) == escrow_id:
                return Transfer(
                    id=transfer.id,
                    amount_minor=transfer.amount,
                    currency=transfer.currency.upper(),
                    destination=_id(transfer.destination) or "",
                )
        return None

    async def find_refund(self, *, payment_intent: str, escrow_id: str) -> Refund | None:
        with stripe_errors("look up the refund"):
            found = await self.client.v1.refunds.list_async(
                {"payment_intent": payment_intent, "limit": 100}
            )
        for refund in found.data:
            if _escrow_of(refund) == escrow_id:
                return Refund(refund.id, refund.amount, refund.status or "pending")
        return None

    async def create_express_account(
        self, *, email: str, metadata: Mapping[str, str], idempotency_key: str
    ) -> ConnectedAccount:
        with stripe_errors("open the payout account"):
            account = await self.client.v1.accounts.create_async(
                {
                    "type": "express",
                    "email": email,
                    "capabilities": {"transfers": {"requested": True}},
                    "metadata": dict(metadata),
                },
                {"idempotency_key": idempotency_key},
            )
        return connected_account(account)

    async def create_account_link(
        self, *, account_id: str, refresh_url: str, return_url: str
    ) -> AccountLink:
        with stripe_errors("start the payout account onboarding"):
            link = await self.client.v1.account_links.create_async(
                {
                    "account": account_id,
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                    "type": "account_onboarding",
                }
            )
        return AccountLink(url=link.url, expires_at=link.expires_at)

    async def retrieve_account(self, account_id: str) -> ConnectedAccount:
        with stripe_errors("read the payout account"):
            account = await self.client.v1.accounts.retrieve_async(account_id)
        return connected_account(account)
