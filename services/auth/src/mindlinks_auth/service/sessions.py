"""Signing in and staying signed in: login, refresh-token rotation, logout,
revocation and introspection.

A session is one signed-in device: an item in ``sessions`` (who, since when,
from where, how: ``amr``) and one refresh-token family in Redis. It is valid
while it is not revoked, its epoch equals the user's (a password reset or
suspension bumps the user's and so ends every session at once, whatever else
fails) and it is within its absolute lifetime. Ending a session publishes
``session.ended`` with the revocation itself, so its access tokens stop
working on every service within seconds (the kit's revocations), not at
expiry.
"""

from __future__ import annotations

import asyncio
import time

from redis.exceptions import NoScriptError

from mindlinks_auth import events
from mindlinks_auth.domain import (
    Introspection,
    InvalidCredentials,
    InvalidRefreshToken,
    RefreshReused,
    Session,
    SessionNotFound,
    Tokens,
    User,
    check_can_sign_in,
    lookup_email,
    new_id,
    sign_in_methods,
)
from mindlinks_auth.keys import KeySet
from mindlinks_auth.mfa import MfaInvalid, MfaRequired, SecretBox, spend_code
from mindlinks_auth.passwords import Passwords
from mindlinks_auth.settings import Settings
from mindlinks_auth.store import Store
from mindlinks_auth.throttle import Attempt, LoginThrottle
from mindlinks_auth.tokens import Flags, RefreshTokens
from mindlinks_kit.auth import Principal, TokenVerifier
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import ConditionFailed
from mindlinks_kit.errors import Problem, Unauthorized
from mindlinks_kit.runtime import Runtime


class Sessions:
    def __init__(
        self,
        *,
        runtime: Runtime,
        settings: Settings,
        store: Store,
        keys: KeySet,
        verifier: TokenVerifier,
        passwords: Passwords,
        throttle: LoginThrottle,
        refresh: RefreshTokens,
        flags: Flags,
        box: SecretBox,
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.store = store
        self.keys = keys
        self.verifier = verifier
        self.passwords = passwords
        self.throttle = throttle
        self.refresh = refresh
        self.flags = flags
        self.box = box

    async def login(
        self, email: str, password: str, mfa_code: str | None, *, ip: str, user_agent: str
    ) -> Tokens:
        email = lookup_email(email)
        # Counted as a failed attempt until the secrets prove right.
        attempt = await self.throttle.begin(email, ip)
        user = await self.store.user_by_email(email)
        matches, rehashed = await self.passwords.verify(
            password, user.password_hash if user else None
        )
        if user is None or not matches:
            raise InvalidCredentials()
        try:
            check_can_sign_in(user)
            if user.mfa_enabled:
                await self._second_factor(user, mfa_code)
        except (MfaInvalid, InvalidCredentials):
            raise  # a wrong code (or an unverified account) stays counted as a failure
        except Problem:
            await self.throttle.passed(attempt)  # the password was no guess
            raise
        if rehashed:
            user = await self._store_rehash(user, rehashed)
        return await self._start(user, attempt, ip, user_agent, sign_in_methods(user.mfa_enabled))

    async def _second_factor(self, user: User, code: str | None) -> None:
        if not code:
            raise MfaRequired()
        assert user.mfa_secret is not None
        secret = await self.box.open(user.id, user.mfa_secret)
        if not await spend_code(self.flags, user.id, secret, code):
            raise MfaInvalid()  # the attempt stays counted as a failure

    async def _store_rehash(self, user: User, rehashed: str) -> User:
        try:
            return await self.store.update_user(
                user.id, {"passwordHash": rehashed}, expected={"passwordHash": user.password_hash}
            )
        except ConditionFailed:  # the password changed meanwhile: keep the new one
            return user

    async def _start(
        self, user: User, attempt: Attempt, ip: str, user_agent: str, amr: tuple[str, ...]
    ) -> Tokens:
        session = Session(
            id=new_id(),
            user_id=user.id,
            created_at=now_iso(),
            expires_at=int(time.time()) + self.settings.refresh_token_ttl_seconds,
            ip=ip,
            user_agent=user_agent[:256],
            token_epoch=user.token_epoch,
            amr=amr,
        )
        refresh = await self._signed_in(attempt, session)
        await self.store.add_session(session)
        return await self._tokens(user, session, refresh)

    async def _signed_in(self, attempt: Attempt, session: Session) -> str:
        """The attempt forgiven (``LoginThrottle.signed_in``) and the session's
        refresh-token family started, in one Redis round trip; the first
        refresh token. Nobody holds the token before the session is stored, and
        a family without a session is refused at its first rotation."""
        async with self.refresh.redis.pipeline(transaction=True) as pipe:
            self.throttle.stage_signed_in(pipe, attempt)
            refresh = self.refresh.stage_start(pipe, session.id, session.user_id)
            try:
                await pipe.execute()
            except NoScriptError:  # Redis lost the script (a restart): the family is written
                await self.throttle.signed_in(attempt)
        return refresh

    async def _tokens(self, user: User, session: Session, refresh: str) -> Tokens:
        ttl = self.settings.access_token_ttl_seconds
        keys = await self.keys.fresh()
        access, _ = keys.access_token(user.id, user.role, session.id, ttl, session.amr)
        return Tokens(access_token=access, refresh_token=refresh, expires_in=ttl)

    async def rotate(self, token: str) -> Tokens:
        """A new refresh token in the same family and a new access token."""
        outcome, family, new = await self.refresh.rotate(token)
        if outcome == "reused" and family is not None:
            await self.revoke(family, "refresh-reused")
            raise RefreshReused()
        if outcome != "rotated" or family is None or new is None:
            raise InvalidRefreshToken()
        session = await self.store.session(family)
        user = await self.store.user(session.user_id) if session else None
        now = time.time()
        if (
            session is None
            or user is None
            or not session.valid_for(user, now, self.settings.session_max_seconds)
        ):
            await self.revoke(family, "invalid")
            raise InvalidRefreshToken()
        expires_at = int(now) + self.settings.refresh_token_ttl_seconds
        if not await self.store.extend_session(family, expires_at):
            await self.refresh.end(family)
            raise InvalidRefreshToken()
        return await self._tokens(user, session, new)

    async def logout(self, principal: Principal, refresh_token: str) -> None:
        """End the refresh token's session (the caller's own only); an unknown or
        expired refresh token ends the session of the access token instead."""
        owner = await self.refresh.owner(refresh_token)
        if owner is not None and owner[1] != principal.user_id:
            raise SessionNotFound()
        family = owner[0] if owner is not None else principal.session_id
        if family is not None:
            await self.revoke(family, "logout")

    async def revoke(self, session_id: str, reason: str) -> None:
        """End a session now: its refresh tokens, its access tokens at auth at
        once, and everywhere else when ``session.ended`` (committed with the
        revocation) reaches each service."""
        await self.refresh.end(session_id)
        await self.flags.set(f"revoked:{session_id}", self.settings.access_token_ttl_seconds + 60)
        session = await self.store.session(session_id)
        if session is None or session.status != "active":
            return  # unknown, or ended before (which published its event)
        uow = self.runtime.uow()
        self.store.stage_session_revoke(uow, session.id, reason)
        events.session_ended(self.runtime, uow, session, reason)
        try:
            await uow.commit()
        except ConditionFailed:
            return  # ended meanwhile by another request, which published it

    async def revoke_all(self, user_id: str, reason: str) -> None:
        ids = await self.store.active_session_ids(user_id)
        await asyncio.gather(*(self.revoke(session_id, reason) for session_id in ids))

    async def is_revoked(self, claims: dict[str, object]) -> bool:
        """The token verifier's revocation hook (auth's own routes)."""
        session_id = claims.get("sid")
        return isinstance(session_id, str) and await self.flags.is_set(f"revoked:{session_id}")

    async def introspect(self, token: str) -> Introspection:
        """Whether an access token is valid right now, session and user included."""
        try:
            claims = await self.verifier.claims(token, self.verifier.audience)
        except Unauthorized:
            return Introspection(active=False)
        session_id = claims.get("sid")
        if claims.get("typ") != "access" or not isinstance(session_id, str):
            return Introspection(active=False)
        session, user = await asyncio.gather(
            self.store.session(session_id), self.store.user(str(claims["sub"]))
        )
        if (
            session is None
            or user is None
            or not session.valid_for(user, time.time(), self.settings.session_max_seconds)
        ):
            return Introspection(active=False)
        return Introspection(
            active=True,
            sub=user.id,
            role=str(claims.get("role")),
            sid=session_id,
            exp=int(claims["exp"]),
        )
