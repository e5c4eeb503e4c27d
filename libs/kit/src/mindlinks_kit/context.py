"""Per-request context carried across awaits: correlation id and the caller."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class RequestContext:
    """Mutable on purpose: the auth dependency fills ``user_id`` in for the access log."""

    correlation_id: str
    user_token: str | None = None
    """The end user's bearer token, forwarded beside service tokens to peers."""
    user_id: str | None = None
    tenant_id: str | None = None
    """The tenant a member's request acts for (``mindlinks_kit.tenancy``)."""


current: ContextVar[RequestContext | None] = ContextVar("mindlinks_request", default=None)


def correlation_id() -> str | None:
    ctx = current.get()
    return ctx.correlation_id if ctx else None
