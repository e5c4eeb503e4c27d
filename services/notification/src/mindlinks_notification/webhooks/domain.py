"""Webhook rules and values; no I/O.

- Signing: ``HMAC-SHA256(secret, f"{timestamp}.{body}")`` in hex, sent as
  ``Mindlinks-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`` — one ``v1``
  per valid secret (two during a rotation's overlap, the newest first).
- Retries: attempt ``n`` (1-based) failed → the next one ``BASE * FACTOR**(n-1)``
  seconds later (1 min, 5 min, 25 min, ~2 h, ~10 h, then daily), while the
  delivery is younger than ``GIVE_UP_AFTER`` (3 days): 8 attempts in all.
- Disabling: when a delivery gives up and its endpoint has not had one
  success since that delivery's first attempt (``failing_since`` is no later),
  the endpoint has failed everything for three days: it is disabled and the
  company's owners and admins are told. Any success clears ``failing_since``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from mindlinks_kit import clock
from mindlinks_kit.errors import Conflict, NotFound

SECRET_PREFIX = "whsec_"  # noqa: S105 -- a prefix that marks a secret, not one
SIGNATURE_HEADER = "Mindlinks-Signature"
DELIVERY_HEADER = "Mindlinks-Delivery"
EVENT_HEADER = "Mindlinks-Event"
TOLERANCE_SECONDS = 300
"""Receivers refuse a delivery signed longer ago than this (docs/webhooks.md)."""
ROTATION_OVERLAP = timedelta(hours=24)
"""How long the previous secret stays valid (and signed with) after a rotation."""
BASE_DELAY_SECONDS = 60.0
FACTOR = 5.0
MAX_DELAY_SECONDS = 24 * 3600.0
GIVE_UP_AFTER = timedelta(days=3)
KEEP_DELIVERIES = timedelta(days=30)
"""How long the delivery log keeps a delivery (the table's TTL)."""

DeliveryStatus = Literal["pending", "delivered", "failed", "cancelled"]


class EndpointNotFound(NotFound):
    code = "webhook-endpoint-not-found"
    title = "No such webhook endpoint"


class DeliveryNotFound(NotFound):
    code = "webhook-delivery-not-found"
    title = "No such webhook delivery"


class EndpointDisabled(Conflict):
    code = "webhook-endpoint-disabled"
    title = "The endpoint is disabled: enable it before replaying"


class AttemptInFlight(Exception):
    """Another worker is sending this attempt right now (its claim holds)."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secrets_: list[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={signature(s, timestamp, body)}" for s in secrets_)])


@dataclass(frozen=True)
class SealedSecret:
    ciphertext: str
    """The secret as KMS encrypted it (base64), bound to the endpoint's id."""
    created_at: str
    valid_until: str | None = None
    """The previous secret's end of validity (``None``: the current one)."""


@dataclass(frozen=True)
class Endpoint:
    id: str
    company_id: str
    url: str
    event_types: tuple[str, ...]
    enabled: bool
    secret: SealedSecret
    created_at: str
    updated_at: str
    created_by_user_id: str
    description: str | None = None
    previous_secret: SealedSecret | None = None
    failing_since: str | None = None
    """The first failed attempt since the last success (``None``: not failing)."""
    disabled_at: str | None = None
    disabled_reason: Literal["failing", "by-admin"] | None = None
    version: int = 1

    def previous_valid(self, now: datetime) -> SealedSecret | None:
        old = self.previous_secret
        if old is None or old.valid_until is None or clock.parse(old.valid_until) <= now:
            return None
        return old

    def wants(self, event_type: str) -> bool:
        return self.enabled and event_type in self.event_types


@dataclass(frozen=True)
class Attempt:
    no: int
    at: str
    outcome: Literal["delivered", "failed", "refused"]
    """``refused``: not sent (the address is not allowed)."""
    latency_ms: int
    status_code: int | None = None
    error: str | None = None
    """Why it failed, short (no response body is kept)."""


@dataclass(frozen=True)
class Delivery:
    id: str
    endpoint_id: str
    company_id: str
    event_id: str
    event_type: str
    body: str
    """The exact JSON sent, the same for every attempt."""
    created_at: str
    status: DeliveryStatus
    purge_at: int
    attempts: tuple[Attempt, ...] = ()
    next_attempt_at: str | None = None
    replay_of: str | None = None
    version: int = 1


def delivery_id(event_id: str, endpoint_id: str) -> str:
    """One delivery per (event, endpoint): a redelivered event makes no second."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"webhook:{event_id}:{endpoint_id}").hex


def purge_at(now: datetime) -> int:
    return int((now + KEEP_DELIVERIES).timestamp())


def next_delay(attempt_no: int) -> float:
    return min(BASE_DELAY_SECONDS * FACTOR ** (attempt_no - 1), MAX_DELAY_SECONDS)


def next_attempt(delivery: Delivery, attempt_no: int, now: datetime) -> datetime | None:
    """When to try again after attempt ``attempt_no`` failed, or ``None``: give up."""
    due = now + timedelta(seconds=next_delay(attempt_no))
    if due - clock.parse(delivery.created_at) > GIVE_UP_AFTER:
        return None
    return due


def after_attempt(delivery: Delivery, attempt: Attempt, retry_at: datetime | None) -> Delivery:
    if attempt.outcome == "delivered":
        status: DeliveryStatus = "delivered"
    else:
        status = "pending" if retry_at is not None else "failed"
    return replace(
        delivery,
        attempts=(*delivery.attempts, attempt),
        status=status,
        next_attempt_at=clock.iso(retry_at)
        if retry_at is not None and status == "pending"
        else None,
    )


def after_outcome(endpoint: Endpoint, delivered: bool, at: str) -> Endpoint:
    """The endpoint's failing streak after one attempt."""
    if delivered:
        return replace(endpoint, failing_since=None)
    return replace(endpoint, failing_since=endpoint.failing_since or at)


def must_disable(endpoint: Endpoint, gave_up: Delivery) -> bool:
    """A delivery gave up: disable the endpoint when nothing has succeeded
    there since its first attempt (three days of failures)."""
    return (
        endpoint.enabled
        and endpoint.failing_since is not None
        and bool(gave_up.attempts)
        and endpoint.failing_since <= gave_up.attempts[0].at
    )


def disabled(endpoint: Endpoint, now: str) -> Endpoint:
    return replace(
        endpoint, enabled=False, disabled_at=now, disabled_reason="failing", updated_at=now
    )
