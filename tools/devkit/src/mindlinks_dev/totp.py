"""An authenticator app for tests: TOTP codes for a secret, each handed out
once (auth refuses a replayed code), so signing in twice within one 30-second
step takes the next code auth accepts (it accepts one step either side)."""

from __future__ import annotations

import time

import pyotp

_used: dict[str, set[str]] = {}


def new_secret() -> str:
    return pyotp.random_base32()


def code(secret: str) -> str:
    """A code auth accepts now and that no earlier call returned."""
    totp = pyotp.TOTP(secret)
    used = _used.setdefault(secret, set())
    for offset in (0, 1, -1):
        candidate = totp.at(time.time(), counter_offset=offset)
        if candidate not in used:
            used.add(candidate)
            return candidate
    raise RuntimeError("three codes of this secret used within one step: wait for the next")
