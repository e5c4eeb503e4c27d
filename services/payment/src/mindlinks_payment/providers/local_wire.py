"""What the local Stripe's objects and events look like on the wire: ids
derived from idempotency keys, Stripe's signature scheme, the Event
envelope, and our values read back from its documents."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from typing import Any

from mindlinks_payment.providers import ConnectedAccount, Refund, Transfer


def local_id(prefix: str, seed: str) -> str:
    return f"{prefix}_local_{hashlib.sha256(seed.encode()).hexdigest()[:24]}"


def sign(payload: str, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header value, by Stripe's documented scheme."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def stripe_event(event_type: str, obj: Mapping[str, Any]) -> dict[str, Any]:
    """An Event object exactly as Stripe sends it to a webhook endpoint."""
    import stripe  # its API version only, on the first event (the SDK is slow to import)

    return {
        "id": f"evt_local_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": stripe.api_version,
        "created": int(time.time()),
        "data": {"object": dict(obj)},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def account_of(document: Mapping[str, Any]) -> ConnectedAccount:
    return ConnectedAccount(
        id=document["id"],
        charges_enabled=bool(document["charges_enabled"]),
        payouts_enabled=bool(document["payouts_enabled"]),
        details_submitted=bool(document["details_submitted"]),
        transfers_active=document["capabilities"].get("transfers") == "active",
    )


def transfer_of(document: Mapping[str, Any]) -> Transfer:
    return Transfer(
        id=document["id"],
        amount_minor=document["amount"],
        currency=document["currency"].upper(),
        destination=document["destination"],
    )


def refund_of(document: Mapping[str, Any]) -> Refund:
    return Refund(id=document["id"], amount_minor=document["amount"], status=document["status"])
