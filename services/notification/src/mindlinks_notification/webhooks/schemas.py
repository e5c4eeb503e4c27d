"""Webhook request and response bodies (camelCase on the wire)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints, WithJsonSchema

from mindlinks_kit.schemas import ONE_LINE, ApiModel
from mindlinks_notification.webhooks.catalog import TYPE_NAMES
from mindlinks_notification.webhooks.domain import Attempt, Delivery, Endpoint


def _known_type(name: str) -> str:
    if name not in TYPE_NAMES:
        raise ValueError(f"not one of {', '.join(TYPE_NAMES)}")
    return name


EventType = Annotated[
    str,
    AfterValidator(_known_type),
    WithJsonSchema({"type": "string", "enum": list(TYPE_NAMES)}),
]
"""One of ``catalog.TYPE_NAMES``: a type added there is accepted here."""
Url = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=8,
        max_length=2048,
        # The shape a client can check before sending: http(s), a host (no
        # user info), then visible ASCII only (an international domain name
        # in its xn-- form). Which schemes and addresses are allowed is the
        # server's rule (webhook-url-refused: https outside local mode, public hosts).
        pattern=r"^[hH][tT][tT][pP][sS]?://[\x21\x22\x24-\x2e\x30-\x3e\x41-\x7e]+([/?#][\x21-\x7e]*)?$",
    ),
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), ONE_LINE]
EventTypes = Annotated[list[EventType], Field(min_length=1, max_length=20)]


class CreateEndpoint(ApiModel):
    url: Url
    """``https://`` on a public address (``http://`` to loopback in local mode only)."""
    event_types: EventTypes
    description: Description | None = None


class UpdateEndpoint(ApiModel):
    url: Url | None = None
    event_types: EventTypes | None = None
    enabled: bool | None = None
    """``true`` enables a disabled endpoint again (its failure streak starts afresh)."""
    description: Description | None = None


class ReplayRange(ApiModel):
    since: AwareDatetime
    until: AwareDatetime
    only_failed: bool = False
    """Only deliveries that gave up."""


class EndpointOut(ApiModel):
    id: str
    url: str
    event_types: list[str]
    enabled: bool
    description: str | None
    created_at: str
    updated_at: str
    disabled_at: str | None
    disabled_reason: str | None
    failing_since: str | None
    previous_secret_valid_until: str | None
    """During a rotation's overlap: until when the previous secret still signs."""

    @classmethod
    def of(cls, e: Endpoint) -> EndpointOut:
        return cls(
            id=e.id,
            url=e.url,
            event_types=list(e.event_types),
            enabled=e.enabled,
            description=e.description,
            created_at=e.created_at,
            updated_at=e.updated_at,
            disabled_at=e.disabled_at,
            disabled_reason=e.disabled_reason,
            failing_since=e.failing_since,
            previous_secret_valid_until=e.previous_secret.valid_until
            if e.previous_secret
            else None,
        )


class EndpointWithSecret(EndpointOut):
    secret: str
    """Shown only now: keep it where your receiver reads it."""


class AttemptOut(ApiModel):
    no: int
    at: str
    outcome: str
    status_code: int | None
    latency_ms: int
    error: str | None

    @classmethod
    def of(cls, a: Attempt) -> AttemptOut:
        return cls(
            no=a.no,
            at=a.at,
            outcome=a.outcome,
            status_code=a.status_code,
            latency_ms=a.latency_ms,
            error=a.error,
        )


class DeliveryOut(ApiModel):
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    created_at: str
    status: str
    next_attempt_at: str | None
    replay_of: str | None
    attempts: list[AttemptOut]

    @classmethod
    def of(cls, d: Delivery) -> DeliveryOut:
        return cls(
            id=d.id,
            endpoint_id=d.endpoint_id,
            event_id=d.event_id,
            event_type=d.event_type,
            created_at=d.created_at,
            status=d.status,
            next_attempt_at=d.next_attempt_at,
            replay_of=d.replay_of,
            attempts=[AttemptOut.of(a) for a in d.attempts],
        )


class Replayed(ApiModel):
    replayed: int
    items: list[DeliveryOut]
