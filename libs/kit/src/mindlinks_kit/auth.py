"""Zero-trust token checks: every service verifies every token itself.

Access tokens are RS256 JWTs with a ``kid``; the public keys come from auth's
JWKS, cached per process (no auth round-trip per request). Routes declare who
may call them with the ``CurrentUser``, ``roles(...)`` and ``Internal`` dependencies. A
role the fleet names a step-up role counts only when the token's ``amr`` says
the user signed in with a second factor (``AnyFactorUser`` is the exception,
for the routes where such a user sets one up).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

import jwt
from fastapi import Depends, Request
from jwt.algorithms import RSAAlgorithm

from mindlinks_kit.context import current
from mindlinks_kit.errors import Forbidden, Unauthorized
from mindlinks_kit.http import USER_TOKEN_HEADER

INTERNAL_AUDIENCE = "internal"
STEP_UP_AUDIENCE = "step-up"
"""The audience of a step-up token (a fresh proof for one action, never an
access token): ``TokenVerifier.claims(token, STEP_UP_AUDIENCE)`` checks one."""
ALGORITHM = "RS256"
LEEWAY_SECONDS = 10
"""Clock skew allowed between the issuer and a verifier."""
VERIFIED_TOKENS = 4096
"""Verified tokens remembered per process (about 1 KiB each)."""


class KeySource(Protocol):
    async def key(self, kid: str) -> Any: ...


class JwksKeys:
    """Public keys from a JWKS document, cached; an unknown ``kid`` triggers at
    most one refetch per ``min_refresh`` seconds (key rotation without a storm)."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[dict[str, Any]]],
        ttl: float = 300.0,
        min_refresh: float = 10.0,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._min_refresh = min_refresh
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._unknown_fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> Any:
        now = time.monotonic()
        if now - self._fetched_at > self._ttl:
            await self._refresh(lambda: time.monotonic() - self._fetched_at > self._ttl)
        elif kid not in self._keys and now - self._unknown_fetched_at > self._min_refresh:
            # A rotated key: refetch, but at most once per interval for unknown ids.
            self._unknown_fetched_at = now
            await self._refresh(lambda: kid not in self._keys)
        return self._keys.get(kid)

    async def _refresh(self, still_needed: Callable[[], bool]) -> None:
        async with self._lock:
            if not still_needed():
                return
            document = await self._fetch()
            self._keys = {
                k["kid"]: RSAAlgorithm.from_jwk(k) for k in document.get("keys", []) if "kid" in k
            }
            self._fetched_at = time.monotonic()


MULTI_FACTOR = "mfa"
"""The ``amr`` value (RFC 8176) of a sign-in that used more than one factor."""


class TokenExpired(Unauthorized):
    """Told apart from the other refusals: a client refreshes its tokens once
    and retries (the TypeScript client does), instead of signing the user out."""

    code = "token-expired"
    title = "The access token has expired"

    def __init__(self) -> None:
        super().__init__("Token expired", reason="expired")
        # RFC 6750 §3.1's error for an expired token.
        self.headers["WWW-Authenticate"] = (
            'Bearer error="invalid_token", error_description="The access token expired"'
        )


class StepUpRequired(Forbidden):
    code = "mfa-required"
    title = "Sign in again with your second factor"

    def __init__(self, role: str) -> None:
        super().__init__(
            f"The role {role} acts only with a second factor: sign in again with the "
            "one-time code from your authenticator app (set two-factor authentication "
            "up first if it is off).",
        )
        # RFC 9470's challenge, for clients that speak it.
        self.headers["WWW-Authenticate"] = (
            'Bearer error="insufficient_user_authentication", '
            'error_description="A sign-in with a second factor is required"'
        )


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: str
    session_id: str | None
    token: str
    amr: tuple[str, ...] = ()
    """How the user signed in (RFC 8176: ``pwd``, ``otp``, ``mfa``)."""

    @property
    def multi_factor(self) -> bool:
        return MULTI_FACTOR in self.amr


@dataclass(frozen=True)
class _Verified:
    kid: str
    key: Any
    claims: dict[str, Any]


@dataclass(frozen=True)
class ServiceCaller:
    service: str
    user: Principal | None


class TokenVerifier:
    def __init__(
        self,
        keys: KeySource,
        issuer: str,
        audience: str,
        step_up_roles: Iterable[str] = (),
    ) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.step_up_roles = frozenset(step_up_roles)
        """Roles whose tokens are refused unless the sign-in used a second factor."""
        self.revocation_checks: list[Callable[[dict[str, Any]], Awaitable[bool]]] = []
        """Checks beyond expiry (a revoked subject, an ended session)."""
        self._verified: dict[tuple[str, str], _Verified] = {}

    async def claims(self, token: str, audience: str, *, revocable: bool = True) -> dict[str, Any]:
        claims = await self._signed_claims(token, audience)
        for revoked in self.revocation_checks if revocable else ():
            if await revoked(claims):
                raise Unauthorized("Token revoked", reason="revoked")
        return claims

    async def _signed_claims(self, token: str, audience: str) -> dict[str, Any]:
        """The claims of a token whose signature, issuer and audience hold and
        which has not expired. A token verified once is remembered until it
        expires: a dashboard sends the same token with every request for its
        15 minutes, and its RS256 check was most of a cheap route's CPU. The
        entry holds the key that verified it, so a key dropped from the JWKS
        ends its tokens at once. Revocation is checked by the caller every time."""
        verified = self._verified.get((token, audience))
        if verified is not None:
            if await self.keys.key(verified.kid) is verified.key:
                if time.time() <= verified.claims["exp"] + LEEWAY_SECONDS:
                    return verified.claims
                del self._verified[(token, audience)]
                raise TokenExpired()
            del self._verified[(token, audience)]
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("Malformed token") from None
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str):
            raise Unauthorized("Unsupported token")
        key = await self.keys.key(kid)
        if key is None:
            raise Unauthorized("Unknown signing key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
                leeway=LEEWAY_SECONDS,
            )
        except jwt.ExpiredSignatureError:
            raise TokenExpired() from None
        except jwt.PyJWTError:
            raise Unauthorized("Invalid token") from None
        if len(self._verified) >= VERIFIED_TOKENS:
            # Oldest first (insertion order): a flood of valid tokens only
            # costs their own verification again.
            for stale in list(self._verified)[: VERIFIED_TOKENS // 4]:
                del self._verified[stale]
        self._verified[(token, audience)] = _Verified(kid, key, claims)
        return claims

    async def user(self, token: str, *, step_up: bool = True) -> Principal:
        """The token's user. A role in ``step_up_roles`` signed in without a
        second factor is refused (403) unless ``step_up`` is False (the few
        routes where such a user sets one up)."""
        claims = await self.claims(token, self.audience)
        if claims.get("typ") != "access" or not isinstance(claims.get("role"), str):
            raise Unauthorized("Not an access token")
        amr = claims.get("amr")
        principal = Principal(
            user_id=claims["sub"],
            role=claims["role"],
            session_id=claims.get("sid"),
            token=token,
            amr=tuple(m for m in amr if isinstance(m, str)) if isinstance(amr, list) else (),
        )
        if step_up and principal.role in self.step_up_roles and not principal.multi_factor:
            raise StepUpRequired(principal.role)
        return principal

    async def service(self, token: str) -> str:
        # The fleet revokes users (``sub``: a user id) and sessions (``sid``); a
        # service token names a service and no session, so no revocation can
        # match it: checking would only reload the revocations for nothing.
        claims = await self.claims(token, INTERNAL_AUDIENCE, revocable=False)
        if claims.get("typ") != "service":
            raise Unauthorized("Not a service token")
        return str(claims["sub"])


def bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.runtime.verifier
    return verifier


async def _current_user(request: Request, *, step_up: bool) -> Principal:
    token = bearer(request.headers.get("authorization"))
    if token is None:
        raise Unauthorized()
    principal = await _verifier(request).user(token, step_up=step_up)
    ctx = current.get()
    if ctx is not None:
        ctx.user_id = principal.user_id
        ctx.user_token = token
    return principal


async def current_user(request: Request) -> Principal:
    return await _current_user(request, step_up=True)


async def current_user_any_factor(request: Request) -> Principal:
    """The caller even when its role needs a second factor it did not use: only
    for the routes where it sets one up (and sees or ends its own session)."""
    return await _current_user(request, step_up=False)


def roles(*allowed: str) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: Annotated[Principal, Depends(current_user)]) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"This action needs the role {' or '.join(allowed)}")
        return principal

    check.allowed_roles = allowed  # type: ignore[attr-defined]  # read by the API map
    return check


async def service_caller(request: Request) -> ServiceCaller:
    token = bearer(request.headers.get("authorization"))
    if token is None:
        raise Unauthorized("A service token is required")
    verifier = _verifier(request)
    service = await verifier.service(token)
    user_token = bearer(request.headers.get(USER_TOKEN_HEADER))
    user = await verifier.user(user_token) if user_token else None
    ctx = current.get()
    if ctx is not None and user is not None:
        ctx.user_id = user.user_id
        ctx.user_token = user.token
    return ServiceCaller(service=service, user=user)


def services(*allowed: str) -> Callable[[ServiceCaller], Awaitable[ServiceCaller]]:
    """Only these services may call the route."""

    async def check(caller: Annotated[ServiceCaller, Depends(service_caller)]) -> ServiceCaller:
        if caller.service not in allowed:
            raise Forbidden(f"Only {' or '.join(allowed)} may call this")
        return caller

    check.allowed_services = allowed  # type: ignore[attr-defined]  # read by the API map
    return check


async def client_ip(request: Request) -> str:
    """The caller's address: the socket peer, or — behind ``trusted_proxy_hops``
    proxies — the entry the nearest trusted proxy appended to ``X-Forwarded-For``
    (earlier entries are whatever the client sent, so never trusted)."""
    hops: int = request.app.state.runtime.settings.trusted_proxy_hops
    if hops > 0:
        forwarded = [p.strip() for p in request.headers.get("x-forwarded-for", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= hops:
            return forwarded[-hops][:64]
    return request.client.host if request.client else "unknown"


CurrentUser = Annotated[Principal, Depends(current_user)]
AnyFactorUser = Annotated[Principal, Depends(current_user_any_factor)]
ClientIp = Annotated[str, Depends(client_ip)]
Internal = Annotated[ServiceCaller, Depends(service_caller)]
