"""What auth's routes depend on, built once per process in ``setup``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from mindlinks_auth.keys import KeySet
from mindlinks_auth.service_tokens import ServiceCredentials
from mindlinks_auth.settings import Settings
from mindlinks_kit.http import ServiceTokens
from mindlinks_kit.runtime import Runtime


@dataclass
class AuthDeps:
    runtime: Runtime
    settings: Settings
    keys: KeySet
    credentials: ServiceCredentials


async def setup(runtime: Runtime) -> AuthDeps:
    settings = runtime.settings
    assert isinstance(settings, Settings)
    keys = KeySet(runtime.aws, settings.jwt_issuer, settings.jwt_audience)
    await keys.load()
    # Auth verifies with its own keys and mints its own service token.
    runtime.verifier.keys = keys

    async def mint_own() -> tuple[str, float]:
        return keys.service_token("auth", settings.service_token_ttl_seconds)

    runtime.peers.tokens = ServiceTokens(mint_own)
    return AuthDeps(runtime=runtime, settings=settings, keys=keys,
                    credentials=ServiceCredentials(runtime.aws))


def _deps(request: Request) -> AuthDeps:
    deps: AuthDeps = request.app.state.deps
    return deps


Deps = Annotated[AuthDeps, Depends(_deps)]
