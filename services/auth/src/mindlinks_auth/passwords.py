"""Password hashing: Argon2id with OWASP's parameters (≈25 ms), bcrypt hashes
still verify and are upgraded on the next sign-in. Hashing runs in a worker
thread, never on the event loop."""

from __future__ import annotations

import asyncio
import secrets

import structlog
from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

log = structlog.get_logger("mindlinks.auth.passwords")

# OWASP Password Storage Cheat Sheet: Argon2id, m=19 MiB, t=2, p=1.
HASHER = PasswordHash((Argon2Hasher(time_cost=2, memory_cost=19456, parallelism=1), BcryptHasher()))


class Passwords:
    def __init__(self, dummy_hash: str) -> None:
        self._dummy = dummy_hash

    @classmethod
    async def create(cls) -> Passwords:
        return cls(await asyncio.to_thread(HASHER.hash, secrets.token_urlsafe(16)))

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(HASHER.hash, password)

    async def verify(self, password: str, hashed: str | None) -> tuple[bool, str | None]:
        """(matches, a new hash to store when the old one is outdated). Without
        a hash (no such account) the same work is done, so timing tells nothing."""
        if hashed is None:
            await asyncio.to_thread(HASHER.verify, password, self._dummy)
            return False, None
        try:
            return await asyncio.to_thread(HASHER.verify_and_update, password, hashed)
        except UnknownHashError:
            log.error("password.unknown_hash_format")
            await asyncio.to_thread(HASHER.verify, password, self._dummy)
            return False, None
