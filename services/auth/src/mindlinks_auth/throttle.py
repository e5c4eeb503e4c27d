"""Sign-in throttling in Redis: slow guessing down without handing anyone a
way to lock the owner out (OWASP Authentication Cheat Sheet, "Protect
Against Automated Attacks").

Every attempt counts as a failure from the moment it starts, in one Lua
script that checks and records atomically (a burst of parallel guesses
cannot slip past a check before any failure is written); an attempt whose
secret proves right is forgiven afterwards. Three limits, numbers in
``Settings`` and the README:

- **pair** (account, address): the first ``free`` failures are free, then
  each further attempt waits ``base * 2**(failures - free)`` seconds, capped.
  Only a sign-in or a password reset clears it; the owner on another
  address is not affected.
- **account**: a hard ceiling, high and short: ``max`` failures from anywhere
  in a sliding ``window`` refuse every attempt until the oldest leaves the
  window. Bounds a distributed guess at one account; a password reset lifts it.
- **address**: a generic cell rate (GCRA) over failures: a burst, then one
  failure per ``interval`` — it slows spraying and never blocks for long.

A pair that signed in before is *known* for a while and skips the account
ceiling and the address limit (OWASP's device-cookie idea, by address): a
griefer cannot shut the owner out of their usual address, nor a sprayer an
office NAT. Its own backoff still applies.

Accounts are keyed by a digest of the email as typed at sign-in (unknown
emails are throttled alike, so the limits say nothing about who exists).
"""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from mindlinks_auth.settings import Settings
from mindlinks_auth.tokens import digest
from mindlinks_kit.errors import TooManyRequests

log = structlog.get_logger("mindlinks.auth.throttle")


class TooManyAttempts(TooManyRequests):
    code = "too-many-attempts"
    title = "Too many failed sign-in attempts; wait before trying again"


# KEYS: the account's pairs (a hash by address), its failure log, the
# address's cell, the pair's "known" flag. Times in ms.
_BEGIN = """
local now, ip = tonumber(ARGV[1]), ARGV[3]
local free, base, cap = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local memory, ceiling, window = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local burst, interval = tonumber(ARGV[10]), tonumber(ARGV[11])
local n = tonumber(redis.call('HGET', KEYS[1], 'n:' .. ip) or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'last:' .. ip) or '0')
if now - last > memory * 1000 then n = 0 end
if n >= free then
  local ready = last + math.min(base * 2 ^ (n - free), cap)
  if now < ready then return {'pair', math.ceil(ready - now)} end
end
local known = redis.call('EXISTS', KEYS[4]) == 1
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
if not known and redis.call('ZCARD', KEYS[2]) >= ceiling then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {'account', math.ceil(tonumber(oldest[2]) + window - now)}
end
local charged = 0
if not known then
  local tat = math.max(tonumber(redis.call('GET', KEYS[3]) or '0'), now)
  local wait = tat - now - (burst - 1) * interval
  if wait > 0 then return {'address', math.ceil(wait)} end
  redis.call('SET', KEYS[3], tat + interval, 'PX', math.ceil(tat + interval - now))
  charged = 1
end
redis.call('HSET', KEYS[1], 'n:' .. ip, n + 1, 'last:' .. ip, ARGV[1], 'prev:' .. ip, last)
redis.call('EXPIRE', KEYS[1], memory)
redis.call('ZADD', KEYS[2], now, ARGV[2])
redis.call('PEXPIRE', KEYS[2], window)
return {'ok', charged}
"""

# KEYS as above. ARGV: now, attempt id, address, started, charged (1/0),
# interval, signed in (1/0), known ttl (s).
_FORGIVE = """
local now, ip = tonumber(ARGV[1]), ARGV[3]
redis.call('ZREM', KEYS[2], ARGV[2])
if ARGV[5] == '1' then
  local back = tonumber(redis.call('GET', KEYS[3]) or '0') - tonumber(ARGV[6])
  if back > now then
    redis.call('SET', KEYS[3], back, 'PX', math.ceil(back - now))
  else
    redis.call('DEL', KEYS[3])
  end
end
if ARGV[7] == '1' then
  redis.call('HDEL', KEYS[1], 'n:' .. ip, 'last:' .. ip, 'prev:' .. ip)
  redis.call('SET', KEYS[4], '1', 'EX', ARGV[8])
  return 1
end
if tonumber(redis.call('HGET', KEYS[1], 'n:' .. ip) or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], 'n:' .. ip, -1)
  if redis.call('HGET', KEYS[1], 'last:' .. ip) == ARGV[4] then
    redis.call('HSET', KEYS[1], 'last:' .. ip, redis.call('HGET', KEYS[1], 'prev:' .. ip))
  end
end
return 1
"""


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt under way: counted as a failure until forgiven."""

    account: str
    ip: str
    id: str
    started: int
    charged: bool
    """Whether it took from the address's allowance (known pairs do not)."""


class LoginThrottle:
    def __init__(self, redis: Redis, prefix: str, settings: Settings) -> None:
        self.redis = redis
        self.prefix = f"{prefix}throttle:"
        self.settings = settings
        self._begin = redis.register_script(_BEGIN)
        self._forgive = redis.register_script(_FORGIVE)

    def _keys(self, account: str, ip: str) -> list[str]:
        return [
            f"{self.prefix}pairs:{account}",
            f"{self.prefix}account:{account}",
            f"{self.prefix}ip:{ip}",
            f"{self.prefix}known:{account}:{ip}",
        ]

    @staticmethod
    def _account(email: str) -> str:
        return digest(email)[:32]

    async def begin(self, email: str, ip: str) -> Attempt:
        """Start an attempt (counted as a failure) or refuse it with how long to wait."""
        s = self.settings
        account, attempt_id, now = self._account(email), secrets.token_hex(8), _now_ms()
        outcome, value = await self._begin(
            keys=self._keys(account, ip),
            args=[
                now,
                attempt_id,
                ip,
                s.login_pair_free_failures,
                int(s.login_pair_base_delay_seconds * 1000),
                s.login_pair_max_delay_seconds * 1000,
                s.login_pair_memory_seconds,
                s.login_account_max_failures,
                s.login_account_window_seconds * 1000,
                s.login_address_burst,
                int(s.login_address_interval_seconds * 1000),
            ],
        )
        outcome = outcome.decode() if isinstance(outcome, bytes) else str(outcome)
        if outcome != "ok":
            wait = max(1, math.ceil(int(value) / 1000))
            log.warning("login.throttled", limit=outcome, account=account, ip=ip, wait=wait)
            raise TooManyAttempts(f"Try again in {wait} seconds", retry_after=wait)
        return Attempt(account, ip, attempt_id, now, charged=bool(int(value)))

    async def passed(self, attempt: Attempt) -> None:
        """The secret was right (no sign-in yet, e.g. a second factor is
        missing): not a guess. The pair's backoff is not reset, so a known
        password cannot buy more second-factor guesses."""
        await self._undo(attempt, signed_in=False)

    async def signed_in(self, attempt: Attempt) -> None:
        """A full sign-in: forgiven, the pair's failures cleared and the pair
        remembered as known (it then skips the account and address limits)."""
        await self._undo(attempt, signed_in=True)

    def stage_signed_in(self, pipe: Pipeline, attempt: Attempt) -> None:
        """``signed_in`` queued on ``pipe``, to share a round trip. The script is
        called by its digest only (no ``SCRIPT EXISTS`` first): when Redis has
        lost it, ``execute`` raises ``NoScriptError`` and ``signed_in`` loads it."""
        keys, args = self._forgive_call(attempt, signed_in=True)
        pipe.evalsha(self._forgive.sha, len(keys), *keys, *args)

    async def _undo(self, attempt: Attempt, *, signed_in: bool) -> None:
        keys, args = self._forgive_call(attempt, signed_in=signed_in)
        await self._forgive(keys=keys, args=args)

    def _forgive_call(
        self, attempt: Attempt, *, signed_in: bool
    ) -> tuple[list[str], list[str | int]]:
        return self._keys(attempt.account, attempt.ip), [
            _now_ms(),
            attempt.id,
            attempt.ip,
            attempt.started,
            int(attempt.charged),
            int(self.settings.login_address_interval_seconds * 1000),
            int(signed_in),
            self.settings.login_known_pair_seconds,
        ]

    async def reset(self, email: str) -> None:
        """A password reset proves the owner: lift the ceiling and every pair's
        backoff (the old password is worthless now)."""
        account = self._account(email)
        await self.redis.delete(f"{self.prefix}pairs:{account}", f"{self.prefix}account:{account}")


def _now_ms() -> int:
    return int(time.time() * 1000)
