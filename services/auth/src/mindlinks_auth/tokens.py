"""Auth's short-lived state in Redis: refresh-token families, single-use
email tokens, and flags (revoked sessions, cooldowns, spent TOTP codes).

Every token is stored as its SHA-256 only; a Redis dump yields nothing usable.
Keys start with the environment's resource prefix, so environments and test
runs sharing one Redis never meet.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Literal

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

Rotation = Literal["rotated", "reused", "unknown"]
_FAMILY_ID = re.compile(r"^[0-9a-f]{32}$")

# One family (= session) is one hash: the user, the current token's digest and
# a ``used:<digest>`` field per rotated-away token. Rotation is one atomic
# script on one key, so two racing refreshes cannot both win, and it stays
# valid on a Redis cluster.
_ROTATE = """
local current = redis.call('HGET', KEYS[1], 'current')
if not current then return 'unknown' end
if current == ARGV[1] then
  redis.call('HSET', KEYS[1], 'current', ARGV[2], 'used:' .. ARGV[1], '1')
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  return 'rotated'
end
if redis.call('HEXISTS', KEYS[1], 'used:' .. ARGV[1]) == 1 then
  redis.call('DEL', KEYS[1])
  return 'reused'
end
return 'unknown'
"""


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def family_of(token: str) -> str | None:
    """The family (session id) a refresh token names, if it is well formed."""
    family, dot, secret = token.partition(".")
    return family if dot and secret and _FAMILY_ID.match(family) else None


class RefreshTokens:
    """Opaque refresh tokens ``<family>.<secret>``, rotated on every use;
    presenting a rotated-away token ends its whole family."""

    def __init__(self, redis: Redis, prefix: str, ttl_seconds: int) -> None:
        self.redis = redis
        self.prefix = f"{prefix}refresh:"
        self.ttl = ttl_seconds
        self._rotate = redis.register_script(_ROTATE)

    def _key(self, family: str) -> str:
        return f"{self.prefix}{{{family}}}"

    @staticmethod
    def _new(family: str) -> str:
        return f"{family}.{secrets.token_urlsafe(32)}"

    async def start(self, family: str, user_id: str) -> str:
        async with self.redis.pipeline(transaction=True) as pipe:
            token = self.stage_start(pipe, family, user_id)
            await pipe.execute()
        return token

    def stage_start(self, pipe: Pipeline, family: str, user_id: str) -> str:
        """``start`` queued on a transaction ``pipe`` (the family is written
        whole, with its lifetime, or not at all); the first token."""
        token = self._new(family)
        key = self._key(family)
        pipe.hset(key, mapping={"uid": user_id, "current": digest(token)})
        pipe.expire(key, self.ttl)
        return token

    async def rotate(self, token: str) -> tuple[Rotation, str | None, str | None]:
        """(outcome, family, new token). ``reused`` has already ended the family."""
        family = family_of(token)
        if family is None:
            return "unknown", None, None
        new = self._new(family)
        outcome = await self._rotate(
            keys=[self._key(family)], args=[digest(token), digest(new), self.ttl]
        )
        return outcome, family, new if outcome == "rotated" else None

    async def owner(self, token: str) -> tuple[str, str] | None:
        """(family, user id) of a token the family issued (current or used)."""
        family = family_of(token)
        if family is None:
            return None
        hashed = digest(token)
        user_id, current, used = await self.redis.hmget(
            self._key(family), ["uid", "current", f"used:{hashed}"]
        )
        if user_id and (current == hashed or used):
            return family, str(user_id)
        return None

    async def end(self, family: str) -> None:
        await self.redis.delete(self._key(family))


class OneTimeTokens:
    """Single-use tokens for email links; a new one voids the user's previous one."""

    def __init__(self, redis: Redis, prefix: str, purpose: str, ttl_seconds: int) -> None:
        self.redis = redis
        self.prefix = f"{prefix}{purpose}:"
        self.ttl = ttl_seconds

    async def issue(self, user_id: str) -> str:
        token = secrets.token_urlsafe(32)
        pointer = f"{self.prefix}of:{user_id}"
        previous = await self.redis.get(pointer)
        async with self.redis.pipeline(transaction=False) as pipe:
            if previous:
                pipe.delete(f"{self.prefix}{previous!s}")
            pipe.set(f"{self.prefix}{digest(token)}", user_id, ex=self.ttl)
            pipe.set(pointer, digest(token), ex=self.ttl)
            await pipe.execute()
        return token

    async def peek(self, token: str) -> str | None:
        user_id = await self.redis.get(f"{self.prefix}{digest(token)}")
        return str(user_id) if user_id else None

    async def consume(self, token: str) -> str | None:
        """The user the token was for, once; None when invalid, used or expired."""
        user_id = await self.redis.getdel(f"{self.prefix}{digest(token)}")
        if not user_id:
            return None
        await self.redis.delete(f"{self.prefix}of:{user_id!s}")
        return str(user_id)


class Flags:
    """Named markers with a lifetime."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    async def set(self, name: str, ttl_seconds: int) -> None:
        await self.redis.set(f"{self.prefix}{name}", "1", ex=ttl_seconds)

    async def set_once(self, name: str, ttl_seconds: int) -> bool:
        """Set the flag unless it is set; True only for the caller that set it."""
        return bool(await self.redis.set(f"{self.prefix}{name}", "1", ex=ttl_seconds, nx=True))

    async def is_set(self, name: str) -> bool:
        return bool(await self.redis.exists(f"{self.prefix}{name}"))

    async def clear(self, name: str) -> None:
        await self.redis.delete(f"{self.prefix}{name}")
