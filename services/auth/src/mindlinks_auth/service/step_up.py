"""Step-up: a fresh one-time code before a sensitive action (signing a
contract), answered with a short-lived step-up token for that action only.

``challenge`` opens one: a six-digit code mailed now (the mail goes out
before the answer, so the dashboard can say "check your inbox" truthfully;
no mail, no challenge), or a code from the user's authenticator app (only
with TOTP on). ``confirm`` checks the answer under the sign-in throttle
(codes guessed here count as failed sign-ins, as the MFA routes' do) and the
challenge's own attempt limit, spends it, and signs the token.
"""

from __future__ import annotations

import time

from mindlinks_auth.challenges import (
    Challenge,
    ChallengeNotFound,
    Challenges,
    CodeNotSent,
    StepUpCodeInvalid,
)
from mindlinks_auth.clients import Notifications
from mindlinks_auth.domain import AccountSuspended, User, UserNotFound
from mindlinks_auth.keys import KeySet
from mindlinks_auth.mfa import MfaNotEnabled, SecretBox, spend_code
from mindlinks_auth.settings import Settings
from mindlinks_auth.store import Store
from mindlinks_auth.throttle import LoginThrottle
from mindlinks_auth.tokens import Flags, digest
from mindlinks_fleet.step_up import PURPOSES, Method
from mindlinks_kit import clock
from mindlinks_kit.auth import Principal


class StepUpGranted:
    def __init__(self, token: str, method: Method, verified_at: int, expires_at: float) -> None:
        self.token = token
        self.method = method
        self.verified_at = verified_at
        self.expires_at = expires_at


class StepUps:
    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        keys: KeySet,
        challenges: Challenges,
        throttle: LoginThrottle,
        notifications: Notifications,
        flags: Flags,
        box: SecretBox,
    ) -> None:
        self.settings = settings
        self.store = store
        self.keys = keys
        self.challenges = challenges
        self.throttle = throttle
        self.notifications = notifications
        self.flags = flags
        self.box = box

    async def _user(self, principal: Principal) -> User:
        user = await self.store.user(principal.user_id)
        if user is None:
            raise UserNotFound()
        if not user.active:
            raise AccountSuspended()
        return user

    async def challenge(self, principal: Principal, method: Method, purpose: str) -> Challenge:
        user = await self._user(principal)
        if method == "totp" and not user.mfa_enabled:
            raise MfaNotEnabled(
                "Your account has no authenticator app: ask for the code by email "
                '(method "email"), or turn two-factor authentication on first.'
            )
        if method == "email":
            await self.challenges.allow(user.id)  # each one is a mail
        challenge, code = await self.challenges.open(
            user.id, principal.session_id, method, purpose, int(time.time())
        )
        if code is not None:
            kind, _, subject = purpose.partition(":")
            sent = await self.notifications.step_up_code(
                user,
                code,
                action=PURPOSES[kind],
                reference=subject,
                minutes=self.settings.step_up_code_ttl_seconds // 60,
                key=f"auth.step-up-code:{digest(challenge.id)[:32]}",
            )
            if not sent:
                await self.challenges.drop(challenge.id)
                raise CodeNotSent()
        return challenge

    async def confirm(
        self, principal: Principal, challenge_id: str, code: str, ip: str
    ) -> StepUpGranted:
        user = await self._user(principal)
        # An unknown id is no guess worth counting (256 random bits); an
        # answer to a real challenge counts as a failed sign-in until the code
        # proves right.
        challenge = await self.challenges.get(challenge_id, user.id)
        attempt = await self.throttle.begin(user.email, ip)
        totp_ok = False
        if challenge.method == "totp":
            if not user.mfa_enabled or user.mfa_secret is None:
                await self.challenges.drop(challenge.id)  # MFA was turned off meanwhile
                raise ChallengeNotFound()
            secret = await self.box.open(user.id, user.mfa_secret)
            totp_ok = await spend_code(self.flags, user.id, secret, code)
        outcome, left = await self.challenges.answer(challenge, code, totp_ok=totp_ok)
        if outcome == "unknown":
            raise ChallengeNotFound()  # answered or expired meanwhile
        if outcome == "wrong":
            raise StepUpCodeInvalid(attemptsLeft=left)
        if outcome == "exhausted":
            raise StepUpCodeInvalid(
                "Too many wrong codes for this challenge: ask for a new code", attemptsLeft=0
            )
        await self.throttle.passed(attempt)
        # Evidence, beside the signature's ``signedAt``: the fleet's clock (moved
        # forward in local tests); the token's own expiry runs on the real one.
        verified_at = int(clock.now().timestamp())
        keys = await self.keys.fresh()
        token, expires = keys.step_up_token(
            user.id,
            challenge.session_id,
            challenge.purpose,
            challenge.method,
            verified_at,
            self.settings.step_up_token_ttl_seconds,
        )
        return StepUpGranted(token, challenge.method, verified_at, expires)
