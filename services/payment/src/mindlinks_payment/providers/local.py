"""The local Stripe: behaves like Stripe for what the payment service uses,
with no keys and no network, its objects kept in the service's own table.

Ids look like Stripe's (``pi_local_…``, ``tr_local_…``, ``acct_local_…``) and
are derived from the idempotency key, so a repeated request returns the first
object, as Stripe does. The dev routes drive what a card holder or Stripe's
onboarding would: ``settle`` makes an intent succeed (or fail) and delivers
the ``payment_intent.*`` event, ``settle_refund`` makes a refund succeed (or
fail) and delivers ``refund.updated`` and ``charge.refunded`` (or
``refund.failed``), each signed with Stripe's scheme
(``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<payload>")>``)
over HTTP to the service's own webhook route, where Stripe's SDK verifies it.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from typing import Any, Literal, Protocol
from urllib.parse import quote

import httpx
import structlog

from mindlinks_kit.errors import Conflict, NotFound, Problem
from mindlinks_payment.providers import (
    AccountLink,
    ConnectedAccount,
    Intent,
    ProviderRefused,
    Refund,
    Transfer,
)
from mindlinks_payment.providers.local_wire import (
    account_of,
    local_id,
    refund_of,
    sign,
    stripe_event,
    transfer_of,
)


class LocalObjectNotFound(NotFound):
    code = "not-found"
    title = "No such object at the local Stripe"


class WebhookDeliveryFailed(Problem):
    """Stripe would retry; the caller of the dev route does (settling a
    succeeded intent again redelivers the same event)."""

    status = 502
    code = "webhook-delivery-failed"
    title = "The service's own webhook did not accept the local Stripe event"


class IntentAlreadySucceeded(Conflict):
    code = "intent-already-succeeded"
    title = "This payment already succeeded"


class IntentCanceled(Conflict):
    code = "intent-canceled"
    title = "This payment was canceled"


class RefundAlreadySettled(Conflict):
    code = "refund-already-settled"
    title = "This refund already succeeded or failed"


__all__ = [
    "WEBHOOK_PATH",
    "LocalStripe",
    "WebhookDeliveryFailed",
    "local_id",
    "sign",
    "stripe_event",
]
log = structlog.get_logger("mindlinks.local_stripe")
Settlement = Literal["succeeded", "failed"]
WEBHOOK_PATH = "/v1/payments/webhooks/stripe"
ONBOARDING_PATH = "/v1/payments/dev/accounts/{account}/onboard"


class Objects(Protocol):
    """Where the local Stripe keeps its objects (``store.LocalObjects``)."""

    async def get(self, object_id: str) -> dict[str, Any] | None: ...
    async def create(self, object_id: str, document: dict[str, Any]) -> dict[str, Any]: ...
    async def put(self, object_id: str, document: dict[str, Any]) -> None: ...


class LocalStripe:
    def __init__(
        self,
        objects: Objects,
        *,
        webhook_secret: str,
        webhook_url: str,
        public_base_url: str,
        http: httpx.AsyncClient,
    ) -> None:
        self.objects = objects
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.public_base_url = public_base_url.rstrip("/")
        self.http = http
        self.transport: httpx.AsyncBaseTransport | None = None

    def mount(self, transport: httpx.AsyncBaseTransport) -> None:
        """Deliver webhooks through ``transport`` (tests: the app's own ASGI transport)."""
        self.transport = transport

    # -- the PaymentsProvider protocol ---------------------------------------

    async def create_intent(
        self,
        *,
        amount_minor: int,
        currency: str,
        transfer_group: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> Intent:
        intent_id = local_id("pi", idempotency_key)
        document = await self.objects.create(
            intent_id,
            {
                "id": intent_id,
                "object": "payment_intent",
                "amount": amount_minor,
                "amount_received": 0,
                "automatic_payment_methods": {"enabled": True},
                "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
                "created": int(time.time()),
                "currency": currency.lower(),
                "last_payment_error": None,
                "latest_charge": None,
                "livemode": False,
                "metadata": dict(metadata),
                "status": "requires_payment_method",
                "transfer_group": transfer_group,
            },
        )
        return Intent(document["id"], document["client_secret"], document["status"])

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
        account = await self.objects.get(destination)
        if account is None:
            raise ProviderRefused(f"No such destination: '{destination}'", providerStatus=400)
        if account["capabilities"].get("transfers") != "active":
            raise ProviderRefused(
                "Your destination account needs to have the transfers capability enabled",
                providerStatus=400,
            )
        transfer_id = local_id("tr", idempotency_key)
        document = await self.objects.create(
            transfer_id,
            {
                "id": transfer_id,
                "object": "transfer",
                "amount": amount_minor,
                "currency": currency.lower(),
                "destination": destination,
                "metadata": dict(metadata),
                "source_transaction": source_transaction,
                "transfer_group": transfer_group,
                "created": int(time.time()),
            },
        )
        await self._point(f"transfer:{metadata.get('escrowId')}", transfer_id)
        return transfer_of(document)

    async def create_refund(
        self,
        *,
        payment_intent: str,
        amount_minor: int,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> Refund:
        refund_id = local_id("re", idempotency_key)
        intent = await self.objects.get(payment_intent)
        if intent is None or intent.get("object") != "payment_intent":
            raise ProviderRefused(f"No such payment_intent: '{payment_intent}'", providerStatus=400)
        existing = await self.objects.get(refund_id)
        if existing is None:
            if intent["status"] != "succeeded":
                raise ProviderRefused(
                    "This PaymentIntent does not have a successful charge to refund",
                    providerStatus=400,
                )
            refunded = int(intent.get("amount_refunded", 0))
            if amount_minor < 1 or refunded + amount_minor > intent["amount"]:
                raise ProviderRefused(
                    f"Refund amount ({amount_minor}) is greater than unrefunded amount",
                    providerStatus=400,
                )
            # Stripe counts a refund against the charge when it is created.
            intent["amount_refunded"] = refunded + amount_minor
            await self.objects.put(payment_intent, intent)
        document = await self.objects.create(
            refund_id,
            {
                "id": refund_id,
                "object": "refund",
                "amount": amount_minor,
                "charge": intent["latest_charge"],
                "currency": intent["currency"],
                "created": int(time.time()),
                "metadata": dict(metadata),
                "payment_intent": payment_intent,
                "status": "pending",
            },
        )
        await self._point(f"refund:{metadata.get('escrowId')}", refund_id)
        return refund_of(document)

    async def _point(self, name: str, object_id: str) -> None:
        """What Stripe's list filters find: the object made for an escrow."""
        await self.objects.create(f"by-escrow:{name}", {"id": object_id})

    async def _pointed(self, name: str) -> dict[str, Any] | None:
        pointer = await self.objects.get(f"by-escrow:{name}")
        return await self.objects.get(pointer["id"]) if pointer else None

    async def find_transfer(self, *, transfer_group: str, escrow_id: str) -> Transfer | None:
        found = await self._pointed(f"transfer:{escrow_id}")
        return transfer_of(found) if found and found["transfer_group"] == transfer_group else None

    async def find_refund(self, *, payment_intent: str, escrow_id: str) -> Refund | None:
        found = await self._pointed(f"refund:{escrow_id}")
        return refund_of(found) if found and found["payment_intent"] == payment_intent else None

    async def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> None:
        intent = await self.objects.get(intent_id)
        if intent is None or intent.get("object") != "payment_intent":
            raise ProviderRefused(f"No such payment_intent: '{intent_id}'", providerStatus=404)
        if intent["status"] == "canceled":
            return
        if intent["status"] == "succeeded":
            raise ProviderRefused(
                "You cannot cancel this PaymentIntent because it has a status of succeeded",
                providerStatus=400,
                providerCode="payment_intent_unexpected_state",
            )
        intent.update(status="canceled", cancellation_reason="abandoned")
        await self.objects.put(intent_id, intent)

    async def create_express_account(
        self, *, email: str, metadata: Mapping[str, str], idempotency_key: str
    ) -> ConnectedAccount:
        account_id = local_id("acct", idempotency_key)
        document = await self.objects.create(
            account_id,
            {
                "id": account_id,
                "object": "account",
                "type": "express",
                "email": email,
                "capabilities": {"transfers": "inactive"},
                "charges_enabled": False,
                "payouts_enabled": False,
                "details_submitted": False,
                "metadata": dict(metadata),
                "created": int(time.time()),
            },
        )
        return account_of(document)

    async def create_account_link(
        self, *, account_id: str, refresh_url: str, return_url: str
    ) -> AccountLink:
        if await self.objects.get(account_id) is None:
            raise ProviderRefused(f"No such account: '{account_id}'", providerStatus=400)
        path = ONBOARDING_PATH.format(account=quote(account_id, safe=""))
        return AccountLink(
            url=f"{self.public_base_url}{path}?return_url={quote(return_url, safe='')}",
            expires_at=int(time.time()) + 300,
        )

    async def retrieve_account(self, account_id: str) -> ConnectedAccount:
        document = await self.objects.get(account_id)
        if document is None:
            raise ProviderRefused(f"No such account: '{account_id}'", providerStatus=404)
        return account_of(document)

    # -- what the dev routes drive ---------------------------------------------

    async def complete_onboarding(self, account_id: str) -> ConnectedAccount:
        """What finishing Stripe's hosted onboarding does to an Express account."""
        document = await self.objects.get(account_id)
        if document is None or document.get("object") != "account":
            raise LocalObjectNotFound()
        document.update(
            capabilities={"transfers": "active"},
            charges_enabled=True,
            payouts_enabled=True,
            details_submitted=True,
        )
        await self.objects.put(account_id, document)
        return account_of(document)

    async def settle(self, intent_id: str, outcome: Settlement) -> tuple[str, bool, int]:
        """The card holder pays (or is declined); Stripe tells the webhook.
        Settling a succeeded intent again redelivers the same event, as Stripe
        retries a delivery. Returns (event id, redelivered, webhook status)."""
        intent = await self.objects.get(intent_id)
        if intent is None or intent.get("object") != "payment_intent":
            raise LocalObjectNotFound()
        if intent["status"] == "canceled":
            raise IntentCanceled()
        if intent["status"] == "succeeded":
            if outcome == "failed":
                raise IntentAlreadySucceeded()
            event = await self.objects.get(f"{intent_id}:payment_intent.succeeded")
            if event is not None:
                return event["id"], True, await self.deliver(event)
        if outcome == "succeeded":
            intent.update(
                status="succeeded",
                amount_received=intent["amount"],
                latest_charge=local_id("ch", intent_id),
                last_payment_error=None,
            )
        else:
            intent.update(
                status="requires_payment_method",
                last_payment_error={
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "insufficient_funds",
                    "message": "Your card has insufficient funds.",
                },
            )
        await self.objects.put(intent_id, intent)
        event_type = f"payment_intent.{'succeeded' if outcome == 'succeeded' else 'payment_failed'}"
        event = stripe_event(event_type, intent)
        await self.objects.put(f"{intent_id}:{event_type}", event)
        return event["id"], False, await self.deliver(event)

    async def settle_refund(
        self, refund_id: str, outcome: Settlement
    ) -> list[tuple[str, bool, int]]:
        """The bank returns the money (or cannot): Stripe tells the webhook with
        ``refund.updated`` and ``charge.refunded`` (or ``refund.failed``).
        Settling a settled refund again redelivers the same events. Returns
        (event id, redelivered, webhook status) per event."""
        refund = await self.objects.get(refund_id)
        if refund is None or refund.get("object") != "refund":
            raise LocalObjectNotFound()
        names = (
            ("refund.updated", "charge.refunded") if outcome == "succeeded" else ("refund.failed",)
        )
        if refund["status"] != "pending":
            if refund["status"] != outcome:
                raise RefundAlreadySettled()
            delivered = []
            for name in names:
                event = await self.objects.get(f"{refund_id}:{name}")
                if event is not None:
                    delivered.append((event["id"], True, await self.deliver(event)))
            return delivered
        refund["status"] = outcome
        if outcome == "failed":
            refund["failure_reason"] = "expired_or_canceled_card"
        await self.objects.put(refund_id, refund)
        intent = await self.objects.get(refund["payment_intent"]) or {}
        if outcome == "failed":
            # A failed refund's amount returns to the charge's refundable balance.
            intent["amount_refunded"] = int(intent.get("amount_refunded", 0)) - refund["amount"]
            await self.objects.put(refund["payment_intent"], intent)
        charge = {
            "id": refund["charge"],
            "object": "charge",
            "amount": intent.get("amount", refund["amount"]),
            "amount_refunded": intent.get("amount_refunded", refund["amount"]),
            "currency": intent.get("currency", refund["currency"]),
            "payment_intent": refund["payment_intent"],
            "refunded": intent.get("amount_refunded") == intent.get("amount"),
            "refunds": {"object": "list", "data": [refund]},
        }
        delivered = []
        for name in names:
            event = stripe_event(name, charge if name.startswith("charge.") else refund)
            await self.objects.put(f"{refund_id}:{name}", event)
            delivered.append((event["id"], False, await self.deliver(event)))
        return delivered

    async def deliver(self, event: Mapping[str, Any]) -> int:
        """POST the event to the webhook, freshly signed (as each Stripe attempt is)."""
        payload = json.dumps(event, separators=(",", ":"))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": sign(payload, self.webhook_secret, int(time.time())),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        try:
            if self.transport is not None:
                async with httpx.AsyncClient(transport=self.transport) as client:
                    response = await client.post(self.webhook_url, content=payload, headers=headers)
            else:
                response = await self.http.post(self.webhook_url, content=payload, headers=headers)
        except httpx.HTTPError as exc:  # no answer: a failed delivery, not our bug
            log.warning("local_stripe.undelivered", event_id=event["id"], error=repr(exc))
            raise WebhookDeliveryFailed(
                f"The webhook did not answer ({type(exc).__name__}); settle again to redeliver",
                eventId=event["id"],
            ) from exc
        log.info("local_stripe.delivered", event_id=event["id"], status=response.status_code)
        return response.status_code
