"""Auth routes: thin — parse, authorize, call the domain, respond."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from mindlinks_auth.deps import Deps
from mindlinks_kit.schemas import ApiModel

public = APIRouter(tags=["auth"])
internal = APIRouter(prefix="/internal/auth", tags=["internal"])


@public.get("/.well-known/jwks.json")
async def jwks(deps: Deps) -> dict[str, Any]:
    return deps.keys.jwks()


class ServiceTokenRequest(ApiModel):
    service: str = Field(min_length=1, max_length=64)
    secret: str = Field(min_length=1, max_length=256)


class ServiceTokenResponse(ApiModel):
    token: str
    expires_at: float


@internal.post("/service-tokens")
async def service_token(body: ServiceTokenRequest, deps: Deps) -> ServiceTokenResponse:
    """Mint a service token from a service's own credential (the only internal
    route that takes no service token: this is where one comes from)."""
    await deps.credentials.check(body.service, body.secret)
    token, expires = deps.keys.service_token(body.service,
                                              deps.settings.service_token_ttl_seconds)
    return ServiceTokenResponse(token=token, expires_at=expires)
