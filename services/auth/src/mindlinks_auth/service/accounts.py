"""Accounts: registration, email verification, password reset, suspension,
second factor, and operator-created admins.

Each state change and its event commit here, in one unit of work; the rules
they apply live in ``domain``. Emails are sent after the commit and never
decide the outcome: a notification outage is logged, and the user can ask
for the email again.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from urllib.parse import urlencode

import structlog

from mindlinks_auth import events
from mindlinks_auth.clients import Notifications
from mindlinks_auth.domain import (
    EmailTaken,
    InvalidEmail,
    InvalidEmailToken,
    Status,
    User,
    UserNotFound,
    check_password,
    lookup_email,
    new_user,
    normalize_email,
)
from mindlinks_auth.mfa import (
    MfaAlreadyEnabled,
    MfaCodeRejected,
    MfaNotEnabled,
    MfaNotPending,
    MfaSecretInvalid,
    SecretBox,
    new_secret,
    provisioning_uri,
    spend_code,
    valid_secret,
)
from mindlinks_auth.passwords import Passwords
from mindlinks_auth.service.sessions import Sessions
from mindlinks_auth.settings import Settings
from mindlinks_auth.store import Store
from mindlinks_auth.throttle import LoginThrottle
from mindlinks_auth.tokens import Flags, OneTimeTokens, digest
from mindlinks_fleet.events import Role
from mindlinks_kit.dynamo import ConditionFailed
from mindlinks_kit.runtime import Runtime

log = structlog.get_logger("mindlinks.auth.accounts")


class Accounts:
    def __init__(
        self,
        *,
        runtime: Runtime,
        settings: Settings,
        store: Store,
        passwords: Passwords,
        sessions: Sessions,
        throttle: LoginThrottle,
        notifications: Notifications,
        verify_tokens: OneTimeTokens,
        reset_tokens: OneTimeTokens,
        flags: Flags,
        box: SecretBox,
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.store = store
        self.passwords = passwords
        self.sessions = sessions
        self.throttle = throttle
        self.notifications = notifications
        self.verify_tokens = verify_tokens
        self.reset_tokens = reset_tokens
        self.flags = flags
        self.box = box

    async def user(self, user_id: str) -> User:
        user = await self.store.user(user_id)
        if user is None:
            raise UserNotFound()
        return user

    async def search(
        self,
        *,
        email: str | None,
        role: Role | None,
        status: Status | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[User], str | None]:
        """Accounts for operators: one exact email (normalized as registration
        does; an address no one could have registered finds nobody), else by
        role newest first, else all; ``status`` and ``role`` filter."""
        if email is not None:
            try:
                user = await self.store.user_by_email(normalize_email(email))
            except InvalidEmail:
                user = None
            matches = (
                user is not None
                and (role is None or user.role == role)
                and (status is None or user.status == status)
            )
            return ([user] if matches and user is not None else []), None
        scope = f"auth.users:role={role or ''}:status={status or ''}"
        start = self.runtime.cursors.decode(cursor, scope)
        users, last = await self.store.users_page(
            role=role, status=status, limit=limit, start=start
        )
        return users, self.runtime.cursors.encode(last, scope)

    # registration -------------------------------------------------------

    async def register(self, *, email: str, password: str, name: str, role: Role) -> User:
        """A new unverified account; publishes ``user.created``. Send the
        verification email afterwards."""
        email = normalize_email(email)
        check_password(password, email=email, name=name)
        user = new_user(
            email=email, name=name, role=role, password_hash=await self.passwords.hash(password)
        )
        await self._create(user)
        return user

    async def sign_up(self, *, email: str, password: str, name: str, role: Role) -> User | None:
        """Registration as the public sees it: the new account, or None when
        the address is taken (nothing changes). Either way the password was
        checked and hashed, so the caller can answer both alike."""
        try:
            return await self.register(email=email, password=password, name=name, role=role)
        except EmailTaken:
            return None

    async def after_sign_up(self, email: str, user: User | None) -> None:
        """After the response: the verification link to a new account, or a
        notice to the owner of a taken address (who may have forgotten)."""
        if user is not None:
            await self.send_verification(user)
            return
        owner = await self.store.user_by_email(email)
        if owner is None or not owner.active:
            return

        async def send() -> bool:
            return await self.notifications.account_exists(
                owner,
                sign_in_url=self._page("login"),
                reset_url=self._page("forgot-password"),
                key=f"auth.account-exists:{secrets.token_hex(16)}",
            )

        await self._mail_once("exists", owner, send, self.settings.account_exists_cooldown_seconds)

    async def check_new_admin(self, *, email: str, password: str, name: str) -> str:
        """What ``create_admin`` would refuse, checked before an operator sets
        up an authenticator for it; returns the normalized email."""
        email = normalize_email(email)
        check_password(password, email=email, name=name)
        if await self.store.user_by_email(email) is not None:
            raise EmailTaken()
        return email

    async def create_admin(self, *, email: str, password: str, name: str, mfa_secret: str) -> User:
        """An admin, verified and with TOTP on from the start (``mfa_secret``,
        which the operator has put into an authenticator app): admins act only
        with a second factor, so none exists without one. For operators (CLI,
        tests) only; no public route leads here."""
        email = normalize_email(email)
        check_password(password, email=email, name=name)
        if not valid_secret(mfa_secret):
            raise MfaSecretInvalid()
        user = new_user(
            email=email,
            name=name,
            role="admin",
            email_verified=True,
            password_hash=await self.passwords.hash(password),
        )
        user = replace(user, mfa_enabled=True, mfa_secret=await self.box.seal(user.id, mfa_secret))
        await self._create(user)
        return user

    async def _create(self, user: User) -> None:
        uow = self.runtime.uow()
        self.store.add_user(uow, user)
        events.user_created(self.runtime, uow, user)
        await uow.commit()

    # email verification --------------------------------------------------

    async def send_verification(self, user: User) -> None:
        async def send() -> bool:
            token = await self.verify_tokens.issue(user.id)
            return await self.notifications.verify_email(
                user,
                self._link("verify-email", token),
                token,
                key=f"auth.verify-email:{digest(token)[:32]}",
            )

        await self._mail_once("verify", user, send)

    async def resend_verification(self, email: str) -> None:
        user = await self.store.user_by_email(lookup_email(email))
        if user is not None and user.active and not user.email_verified:
            await self.send_verification(user)

    async def verify_email(self, token: str) -> None:
        # The token is spent only once the address counts as proven: a store
        # that fails in between leaves it good for the person's retry.
        user_id = await self.verify_tokens.peek(token)
        if user_id is None:
            raise InvalidEmailToken()
        try:
            await self.store.update_user(user_id, {"emailVerified": True})
        except ConditionFailed:
            raise InvalidEmailToken() from None
        await self.verify_tokens.consume(token)

    # password reset ------------------------------------------------------

    async def forgot_password(self, email: str) -> None:
        """Send a reset link if the account exists; the caller learns nothing."""
        user = await self.store.user_by_email(lookup_email(email))
        if user is None or not user.active:
            return

        async def send() -> bool:
            token = await self.reset_tokens.issue(user.id)
            return await self.notifications.reset_password(
                user,
                self._link("reset-password", token),
                token,
                key=f"auth.reset-password:{digest(token)[:32]}",
            )

        await self._mail_once("reset", user, send)

    async def reset_password(self, token: str, password: str) -> None:
        """Set a new password and end every session of the user."""
        user_id = await self.reset_tokens.peek(token)
        user = await self.store.user(user_id) if user_id else None
        if user is None or not user.active:
            raise InvalidEmailToken()
        check_password(password, email=user.email, name=user.name)
        if await self.reset_tokens.consume(token) != user.id:
            raise InvalidEmailToken()
        hashed = await self.passwords.hash(password)
        # The link reached the inbox, which also proves the address.
        await self.store.update_user(
            user.id, {"passwordHash": hashed, "emailVerified": True}, bump_epoch=True
        )
        await self.throttle.reset(user.email)
        await self.sessions.revoke_all(user.id, "password-reset")

    # suspension ----------------------------------------------------------

    async def suspend(self, user_id: str, reason: str) -> User:
        """Suspend (idempotent) and end every session at once."""
        user = await self.user(user_id)
        if user.active:
            uow = self.runtime.uow()
            self.store.stage_user_update(
                uow, user, {"status": "suspended", "suspendedReason": reason}, bump_epoch=True
            )
            events.user_suspended(self.runtime, uow, user, reason)
            await uow.commit()
        await self.sessions.revoke_all(user.id, "suspended")
        return await self.user(user_id)

    async def unsuspend(self, user_id: str) -> User:
        user = await self.user(user_id)
        if not user.active:
            uow = self.runtime.uow()
            self.store.stage_user_update(uow, user, {"status": "active", "suspendedReason": None})
            events.user_unsuspended(self.runtime, uow, user)
            await uow.commit()
        return await self.user(user_id)

    # second factor -------------------------------------------------------

    async def mfa_setup(self, user_id: str) -> tuple[str, str]:
        """A new pending TOTP secret and its ``otpauth://`` URI (for a QR code)."""
        user = await self.user(user_id)
        if user.mfa_enabled:
            raise MfaAlreadyEnabled()
        secret = new_secret()
        await self.store.update_user(user.id, {"mfaPending": await self.box.seal(user.id, secret)})
        return secret, provisioning_uri(secret, user.email, self.settings.mfa_issuer)

    async def mfa_enable(self, user_id: str, code: str, ip: str) -> None:
        user = await self.user(user_id)
        if user.mfa_enabled:
            raise MfaAlreadyEnabled()
        if user.mfa_pending is None:
            raise MfaNotPending()
        await self._check_code(user, user.mfa_pending, code, ip)
        try:
            await self.store.update_user(
                user.id,
                {"mfaEnabled": True, "mfaSecret": user.mfa_pending, "mfaPending": None},
                expected={"mfaPending": user.mfa_pending},
            )
        except ConditionFailed:
            raise MfaNotPending("The setup changed meanwhile; start it again") from None

    async def mfa_disable(self, user_id: str, code: str, ip: str) -> None:
        user = await self.user(user_id)
        if not user.mfa_enabled or user.mfa_secret is None:
            raise MfaNotEnabled()
        await self._check_code(user, user.mfa_secret, code, ip)
        await self.store.update_user(
            user.id,
            {"mfaEnabled": False, "mfaSecret": None},
            expected={"mfaSecret": user.mfa_secret},
        )

    async def _check_code(self, user: User, sealed: str, code: str, ip: str) -> None:
        """Codes guessed here count as failed sign-ins (a 6-digit code is guessable)."""
        attempt = await self.throttle.begin(user.email, ip)
        if not await spend_code(self.flags, user.id, await self.box.open(user.id, sealed), code):
            raise MfaCodeRejected()  # the attempt stays counted as a failure
        await self.throttle.passed(attempt)

    # helpers -------------------------------------------------------------

    def _page(self, page: str) -> str:
        return f"{self.settings.public_base_url.rstrip('/')}/{page}"

    def _link(self, page: str, token: str) -> str:
        return f"{self._page(page)}?{urlencode({'token': token})}"

    async def _mail_once(
        self,
        kind: str,
        user: User,
        send: Callable[[], Awaitable[bool]],
        seconds: int | None = None,
    ) -> None:
        """At most one email of a kind per address per cooldown (``seconds``,
        else the resend cooldown); a failed send does not count, so asking
        again works at once."""
        cooldown = f"cooldown:{kind}:{digest(user.email)[:32]}"
        ttl = seconds or self.settings.email_resend_cooldown_seconds
        try:
            if not await self.flags.set_once(cooldown, ttl):
                return
        except Exception:  # runs after the response: log, never raise
            log.exception("email.failed", kind=kind, user_id=user.id)
            return
        try:
            sent = await send()
        except Exception:
            log.exception("email.failed", kind=kind, user_id=user.id)
            sent = False
        if not sent:
            # Nothing went out: the address may ask again at once.
            with contextlib.suppress(Exception):
                await self.flags.clear(cooldown)
