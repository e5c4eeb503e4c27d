"""The auth service's internal API: service tokens, accounts for its peers
and the operator, introspection, suspension and key rotation."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from mindlinks_fleet.events import Role
from mindlinks_kit.declaration import EVERY_SERVICE, Call, Lookup
from mindlinks_kit.schemas import MULTI_LINE, ApiModel, Page


class ServiceTokenRequest(ApiModel):
    service: str = Field(min_length=1, max_length=64)
    secret: str = Field(min_length=1, max_length=256)


class ServiceTokenResponse(ApiModel):
    token: str
    expires_at: float


class UserRecord(ApiModel):
    """What other services may know about a user."""

    id: str
    email: str
    name: str
    role: Role
    status: Literal["active", "suspended"]
    email_verified: bool


class AccountRecord(UserRecord):
    """An account in the operators' lists."""

    created_at: str


class IntrospectRequest(ApiModel):
    token: Annotated[str, StringConstraints(min_length=1, max_length=8192)]


class IntrospectResponse(ApiModel):
    """RFC 7662's shape: only ``active`` when the token is not."""

    active: bool
    sub: str | None = None
    role: str | None = None
    sid: str | None = None
    exp: int | None = None


class SuspendRequest(ApiModel):
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), MULTI_LINE
    ]


class RotatedKeys(ApiModel):
    kid: str
    activates_at: str
    """When the new key starts signing (it is published already)."""
    published: list[str]


SERVICE_TOKENS = Call(
    "auth",
    "POST",
    "/internal/auth/service-tokens",
    ServiceTokenResponse,
    callers=(EVERY_SERVICE,),
    body=ServiceTokenRequest,
    authenticated=False,
    summary="A service's own secret for a short-lived service token.",
)
USERS = Call(
    "auth",
    "GET",
    "/internal/auth/users",
    Page[AccountRecord],
    callers=("admin",),
    summary="Accounts: an exact email, or by role newest first; by status.",
)
USER = Lookup(
    "auth",
    "GET",
    "/internal/auth/users/{user_id}",
    UserRecord,
    callers=("admin", "client", "contractor"),
    summary="What a peer may know about one account.",
)
INTROSPECT = Call(
    "auth",
    "POST",
    "/internal/auth/introspect",
    IntrospectResponse,
    callers=("admin",),
    body=IntrospectRequest,
    summary="RFC 7662 introspection of an access token.",
)
SUSPEND = Call(
    "auth",
    "POST",
    "/internal/auth/users/{user_id}/suspend",
    UserRecord,
    callers=("admin",),
    body=SuspendRequest,
    summary="Suspend an account: its tokens stop working fleet-wide.",
)
UNSUSPEND = Call(
    "auth",
    "POST",
    "/internal/auth/users/{user_id}/unsuspend",
    UserRecord,
    callers=("admin",),
    summary="Lift a suspension.",
)
ROTATE_KEYS = Call(
    "auth",
    "POST",
    "/internal/auth/keys/rotate",
    RotatedKeys,
    callers=("admin",),
    summary="Publish a new signing key; it signs after the activation delay.",
)

ROUTES = (SERVICE_TOKENS, USERS, USER, INTROSPECT, SUSPEND, UNSUSPEND, ROTATE_KEYS)
