"""Auth routes: thin — parse, authorize, call the accounts or sessions
service, respond. Emails go out in background tasks, after the response, so
how long a request takes says nothing about whether an account exists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response

from mindlinks_auth.deps import Deps
from mindlinks_auth.domain import Status, Tokens
from mindlinks_auth.schemas import (
    EmailRequest,
    LoginRequest,
    Me,
    MfaCodeRequest,
    MfaSetup,
    RefreshRequest,
    RegisterRequest,
    RegistrationAccepted,
    ResetPasswordRequest,
    StepUpChallenge,
    StepUpChallengeRequest,
    StepUpGrant,
    StepUpRequest,
    TokenPair,
    TokenRequest,
    VerifiedEmail,
    account_record,
    user_record,
)
from mindlinks_fleet.events import Role
from mindlinks_fleet.internal import auth
from mindlinks_fleet.internal.auth import (
    AccountRecord,
    IntrospectRequest,
    IntrospectResponse,
    RotatedKeys,
    ServiceTokenRequest,
    ServiceTokenResponse,
    SuspendRequest,
    UserRecord,
)
from mindlinks_kit.auth import AnyFactorUser, ClientIp, CurrentUser
from mindlinks_kit.clock import iso
from mindlinks_kit.internal import serve
from mindlinks_kit.schemas import Cursor, Id, Limit, Page

well_known = APIRouter(tags=["auth"])
public = APIRouter(prefix="/v1/auth", tags=["auth"])
internal = APIRouter()
NO_STORE = {"Cache-Control": "no-store"}


def _tokens(tokens: Tokens, response: Response) -> TokenPair:
    response.headers.update(NO_STORE)
    return TokenPair.model_validate(tokens, from_attributes=True)


@well_known.get("/.well-known/jwks.json")
async def jwks(deps: Deps, response: Response) -> dict[str, Any]:
    """The public keys that verify access tokens (JWKS, with key ids)."""
    response.headers["Cache-Control"] = "public, max-age=60"
    return (await deps.keys.fresh()).jwks()


# accounts -------------------------------------------------------------------


@public.post("/register", status_code=202)
async def register(
    body: RegisterRequest, deps: Deps, background: BackgroundTasks
) -> RegistrationAccepted:
    """Create a client or contractor account; a verification mail follows. A
    taken address answers exactly the same (its owner is mailed instead)."""
    user = await deps.accounts.sign_up(
        email=body.email, password=body.password, name=body.name, role=body.role
    )
    background.add_task(deps.accounts.after_sign_up, body.email, user)
    return RegistrationAccepted(email=body.email)


@public.post("/verify-email")
async def verify_email(body: TokenRequest, deps: Deps) -> VerifiedEmail:
    """Confirm the email address with the mailed single-use token."""
    await deps.accounts.verify_email(body.token)
    return VerifiedEmail()


@public.post("/verify-email/resend", status_code=202, response_class=Response)
async def resend_verification(
    body: EmailRequest, deps: Deps, background: BackgroundTasks
) -> Response:
    """Mail the verification link again (always 202)."""
    background.add_task(deps.accounts.resend_verification, body.email)
    return Response(status_code=202, background=background)


@public.post("/forgot-password", status_code=202, response_class=Response)
async def forgot_password(body: EmailRequest, deps: Deps, background: BackgroundTasks) -> Response:
    """Mail a password-reset link if the account exists (always 202)."""
    background.add_task(deps.accounts.forgot_password, body.email)
    return Response(status_code=202, background=background)


@public.post("/reset-password", status_code=204, response_class=Response)
async def reset_password(body: ResetPasswordRequest, deps: Deps) -> Response:
    """Set a new password with the mailed token; ends every session."""
    await deps.accounts.reset_password(body.token, body.password)
    return Response(status_code=204)


@public.get("/me")
async def me(principal: AnyFactorUser, deps: Deps) -> Me:
    """The caller's account."""
    return Me.of(await deps.accounts.user(principal.user_id))


# sessions -------------------------------------------------------------------
# ``AnyFactorUser`` on me, logout and the MFA routes: a role that acts only with
# a second factor (admin) must still reach the routes that set one up.


@public.post("/login")
async def login(
    body: LoginRequest, request: Request, ip: ClientIp, deps: Deps, response: Response
) -> TokenPair:
    """Access and refresh tokens for a verified account (throttled per account and
    IP; an MFA code once enabled)."""
    tokens = await deps.sessions.login(
        body.email,
        body.password,
        body.mfa_code,
        ip=ip,
        user_agent=request.headers.get("user-agent", ""),
    )
    return _tokens(tokens, response)


@public.post("/refresh")
async def refresh(body: RefreshRequest, deps: Deps, response: Response) -> TokenPair:
    """Rotate a refresh token; presenting a used one revokes its whole session."""
    return _tokens(await deps.sessions.rotate(body.refresh_token), response)


@public.post("/logout", status_code=204, response_class=Response)
async def logout(body: RefreshRequest, principal: AnyFactorUser, deps: Deps) -> Response:
    """End the session of this refresh token."""
    await deps.sessions.logout(principal, body.refresh_token)
    return Response(status_code=204)


# second factor --------------------------------------------------------------


@public.post("/mfa/setup")
async def mfa_setup(principal: AnyFactorUser, deps: Deps, response: Response) -> MfaSetup:
    """Start TOTP MFA: a secret and its otpauth URI."""
    secret, uri = await deps.accounts.mfa_setup(principal.user_id)
    response.headers.update(NO_STORE)
    return MfaSetup(secret=secret, otpauth_uri=uri)


@public.post("/mfa/enable", status_code=204, response_class=Response)
async def mfa_enable(
    body: MfaCodeRequest, principal: AnyFactorUser, ip: ClientIp, deps: Deps
) -> Response:
    """Turn MFA on with a current code; login then needs one."""
    await deps.accounts.mfa_enable(principal.user_id, body.code, ip)
    return Response(status_code=204)


@public.post("/mfa/disable", status_code=204, response_class=Response)
async def mfa_disable(
    body: MfaCodeRequest, principal: AnyFactorUser, ip: ClientIp, deps: Deps
) -> Response:
    """Turn MFA off with a current code."""
    await deps.accounts.mfa_disable(principal.user_id, body.code, ip)
    return Response(status_code=204)


# step-up --------------------------------------------------------------------


def _iso(seconds: float) -> str:
    return iso(datetime.fromtimestamp(seconds, UTC))


@public.post("/step-up/challenges", status_code=201)
async def step_up_challenge(
    body: StepUpChallengeRequest, principal: CurrentUser, deps: Deps, response: Response
) -> StepUpChallenge:
    """Ask for a one-time code before a sensitive action (``purpose``): mailed
    now (``email``) or from the authenticator app (``totp``, with two-factor
    authentication on). Confirm it with ``POST /v1/auth/step-up``."""
    challenge = await deps.step_ups.challenge(principal, body.method, body.purpose)
    response.headers.update(NO_STORE)
    return StepUpChallenge(
        challenge_id=challenge.id, method=challenge.method, expires_at=_iso(challenge.expires_at)
    )


@public.post("/step-up")
async def step_up(
    body: StepUpRequest, principal: CurrentUser, ip: ClientIp, deps: Deps, response: Response
) -> StepUpGrant:
    """Confirm a challenge's code: a step-up token (5 minutes) for its purpose
    only. A code works once; wrong ones are throttled like sign-ins."""
    granted = await deps.step_ups.confirm(principal, body.challenge_id, body.code, ip)
    response.headers.update(NO_STORE)
    return StepUpGrant(
        step_up_token=granted.token,
        method=granted.method,
        verified_at=_iso(granted.verified_at),
        expires_at=_iso(granted.expires_at),
    )


# internal -------------------------------------------------------------------


@serve(internal, auth.SERVICE_TOKENS)
async def service_token(body: ServiceTokenRequest, deps: Deps) -> ServiceTokenResponse:
    """Mint a service token from a service's own credential (the only internal
    route that takes no service token: this is where one comes from)."""
    await deps.credentials.check(body.service, body.secret)
    keys = await deps.keys.fresh()
    token, expires = keys.service_token(body.service, deps.settings.service_token_ttl_seconds)
    return ServiceTokenResponse(token=token, expires_at=expires)


@serve(internal, auth.USERS)
async def search_users(
    deps: Deps,
    email: Annotated[str | None, Query(min_length=1, max_length=320)] = None,
    role: Role | None = None,
    status: Status | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AccountRecord]:
    """Accounts for the admin service: an exact email, or by role newest
    first, or all; ``status`` filters."""
    users, next_cursor = await deps.accounts.search(
        email=email, role=role, status=status, limit=limit, cursor=cursor
    )
    return Page[AccountRecord](items=[account_record(u) for u in users], next_cursor=next_cursor)


@serve(internal, auth.USER)
async def get_user_record(user_id: Id, deps: Deps) -> UserRecord:
    return user_record(await deps.accounts.user(user_id))


@serve(internal, auth.INTROSPECT, response_model_exclude_none=True)
async def introspect(body: IntrospectRequest, deps: Deps) -> IntrospectResponse:
    result = await deps.sessions.introspect(body.token)
    return IntrospectResponse.model_validate(result, from_attributes=True)


@serve(internal, auth.SUSPEND)
async def suspend(user_id: Id, body: SuspendRequest, deps: Deps) -> UserRecord:
    return user_record(await deps.accounts.suspend(user_id, body.reason))


@serve(internal, auth.UNSUSPEND)
async def unsuspend(user_id: Id, deps: Deps) -> UserRecord:
    return user_record(await deps.accounts.unsuspend(user_id))


@serve(internal, auth.ROTATE_KEYS)
async def rotate_keys(deps: Deps) -> RotatedKeys:
    new = await deps.keys.rotate()
    activates = datetime.fromtimestamp(new.created_at + deps.keys.activation_seconds, UTC)
    return RotatedKeys(
        kid=new.kid,
        activates_at=activates.isoformat(timespec="seconds").replace("+00:00", "Z"),
        published=[k.kid for k in deps.keys.keys],
    )
