"""What auth's routes depend on, built once per process in ``setup``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from mindlinks_auth.challenges import Challenges
from mindlinks_auth.clients import Notifications
from mindlinks_auth.keys import KeySet
from mindlinks_auth.mfa import SecretBox
from mindlinks_auth.passwords import Passwords
from mindlinks_auth.service.accounts import Accounts
from mindlinks_auth.service.sessions import Sessions
from mindlinks_auth.service.step_up import StepUps
from mindlinks_auth.service_tokens import ServiceCredentials
from mindlinks_auth.settings import Settings
from mindlinks_auth.store import Store
from mindlinks_auth.throttle import LoginThrottle
from mindlinks_auth.tokens import Flags, OneTimeTokens, RefreshTokens
from mindlinks_kit.app import service_deps
from mindlinks_kit.http import ServiceTokens
from mindlinks_kit.runtime import Runtime


@dataclass
class AuthDeps:
    runtime: Runtime
    settings: Settings
    keys: KeySet
    credentials: ServiceCredentials
    store: Store
    sessions: Sessions
    accounts: Accounts
    step_ups: StepUps


async def setup(runtime: Runtime) -> AuthDeps:
    settings = runtime.settings_as(Settings)
    redis = runtime.redis
    assert redis is not None, "auth declares redis"
    keys = KeySet(
        runtime.aws,
        settings.jwt_issuer,
        settings.jwt_audience,
        grace_seconds=settings.access_token_ttl_seconds + 60,
        reload_seconds=settings.signing_keys_reload_seconds,
        activation_seconds=settings.signing_key_activation_seconds,
    )
    await keys.load()
    # Auth verifies with its own keys and mints its own service token.
    runtime.verifier.keys = keys

    async def mint_own() -> tuple[str, float]:
        return keys.service_token("auth", settings.service_token_ttl_seconds)

    runtime.peers.tokens = ServiceTokens(mint_own)

    prefix = f"{settings.resource_prefix}auth:"
    store = Store(runtime.table("users"), runtime.table("sessions"))
    passwords = await Passwords.create()
    throttle = LoginThrottle(redis, prefix, settings)
    flags = Flags(redis, prefix)
    box = SecretBox(runtime.aws.kms, f"alias/{settings.resource_prefix}data")
    sessions = Sessions(
        runtime=runtime,
        settings=settings,
        store=store,
        keys=keys,
        verifier=runtime.verifier,
        passwords=passwords,
        throttle=throttle,
        flags=flags,
        box=box,
        refresh=RefreshTokens(redis, prefix, settings.refresh_token_ttl_seconds),
    )
    # Access tokens of ended sessions stop working at auth at once; every
    # other service learns of it from the revocation events (session.ended,
    # user.suspended) within seconds.
    runtime.verifier.revocation_checks.append(sessions.is_revoked)
    accounts = Accounts(
        runtime=runtime,
        settings=settings,
        store=store,
        passwords=passwords,
        sessions=sessions,
        throttle=throttle,
        notifications=Notifications(runtime.peers),
        verify_tokens=OneTimeTokens(
            redis, prefix, "verify-email", settings.verify_email_ttl_seconds
        ),
        reset_tokens=OneTimeTokens(
            redis, prefix, "reset-password", settings.reset_password_ttl_seconds
        ),
        flags=flags,
        box=box,
    )
    step_ups = StepUps(
        settings=settings,
        store=store,
        keys=keys,
        challenges=Challenges(
            redis,
            prefix,
            ttl_seconds=settings.step_up_code_ttl_seconds,
            max_attempts=settings.step_up_max_attempts,
            per_window=settings.step_up_challenges_per_window,
            window_seconds=settings.step_up_challenge_window_seconds,
        ),
        throttle=throttle,
        notifications=accounts.notifications,
        flags=flags,
        box=box,
    )
    return AuthDeps(
        runtime=runtime,
        settings=settings,
        keys=keys,
        credentials=ServiceCredentials(runtime.aws),
        store=store,
        sessions=sessions,
        accounts=accounts,
        step_ups=step_ups,
    )


Deps = Annotated[AuthDeps, Depends(service_deps)]
