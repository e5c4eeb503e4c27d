"""Step-up challenges in Redis: a one-time code asked for one action, answered
once (ADR 0014).

A challenge is one hash under the SHA-256 of its id, with a lifetime: who
asked (user, session), the method, the purpose, wrong answers so far and, for
a mailed code, ``SHA-256(<challenge id>:<code>)``. The id is 256 random bits
the caller alone holds, so a Redis dump yields neither a usable challenge nor
a code (six digits alone would fall to a million guesses; salted with a
secret id they do not). Answering is one script: a right code deletes the
challenge (single use, even for two racing answers), a wrong one counts, and
the last allowed wrong one deletes it too.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from redis.asyncio import Redis

from mindlinks_auth.tokens import digest
from mindlinks_fleet.step_up import Method
from mindlinks_kit.errors import InvalidInput, NotFound, PeerUnavailable, TooManyRequests

Outcome = Literal["ok", "wrong", "exhausted", "unknown"]
CODE_DIGITS = 6
TOTP_SENTINEL = "-"
"""The stored code of a TOTP challenge: the app's code is checked outside."""


class ChallengeNotFound(NotFound):
    code = "step-up-challenge-not-found"
    title = "No such step-up challenge: it is unknown, expired or already used"


class StepUpCodeInvalid(InvalidInput):
    code = "step-up-code-invalid"
    title = "The one-time code is not valid"


class TooManyChallenges(TooManyRequests):
    code = "too-many-step-up-challenges"
    title = "Too many one-time codes asked for; wait before asking again"


class CodeNotSent(PeerUnavailable):
    code = "step-up-code-not-sent"
    title = "The one-time code could not be mailed; ask for a new one"


@dataclass(frozen=True)
class Challenge:
    id: str
    user_id: str
    session_id: str | None
    method: Method
    purpose: str
    expires_at: int
    """Unix seconds."""


# KEYS: the challenge. ARGV: user id, candidate digest ('' for TOTP), TOTP
# verdict ('1'/'0'), max attempts.
_ANSWER = """
local stored = redis.call('HGET', KEYS[1], 'code')
if not stored or redis.call('HGET', KEYS[1], 'uid') ~= ARGV[1] then return {'unknown', 0} end
local ok
if stored == '-' then ok = ARGV[3] == '1' else ok = stored == ARGV[2] end
if ok then
  redis.call('DEL', KEYS[1])
  return {'ok', 0}
end
local n = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
local left = tonumber(ARGV[4]) - n
if left <= 0 then
  redis.call('DEL', KEYS[1])
  return {'exhausted', 0}
end
return {'wrong', left}
"""


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_digest(challenge_id: str, code: str) -> str:
    return digest(f"{challenge_id}:{code}")


class Challenges:
    def __init__(
        self,
        redis: Redis,
        prefix: str,
        *,
        ttl_seconds: int,
        max_attempts: int,
        per_window: int,
        window_seconds: int,
    ) -> None:
        self.redis = redis
        self.prefix = f"{prefix}step-up:"
        self.ttl = ttl_seconds
        self.max_attempts = max_attempts
        self.per_window = per_window
        self.window = window_seconds
        self._answer = redis.register_script(_ANSWER)

    def _key(self, challenge_id: str) -> str:
        return f"{self.prefix}c:{digest(challenge_id)}"

    async def allow(self, user_id: str) -> None:
        """Count a mailed code for ``user_id``; refuse past the window's
        allowance (no bombing an inbox with codes)."""
        key = f"{self.prefix}n:{user_id}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=self.window, nx=True)  # the window starts with the first
            pipe.incr(key)
            pipe.ttl(key)
            _, count, ttl = await pipe.execute()
        if int(count) > self.per_window:
            wait = max(1, int(ttl))
            raise TooManyChallenges(f"Try again in {wait} seconds", retry_after=wait)

    async def open(
        self, user_id: str, session_id: str | None, method: Method, purpose: str, now: int
    ) -> tuple[Challenge, str | None]:
        """A new challenge and, for ``email``, the code to mail (kept only hashed)."""
        challenge = Challenge(
            id=secrets.token_urlsafe(32),
            user_id=user_id,
            session_id=session_id,
            method=method,
            purpose=purpose,
            expires_at=now + self.ttl,
        )
        code = new_code() if method == "email" else None
        fields: dict[Any, Any] = {
            "uid": user_id,
            "sid": session_id or "",
            "method": method,
            "purpose": purpose,
            "exp": challenge.expires_at,
            "attempts": 0,
            "code": code_digest(challenge.id, code) if code else TOTP_SENTINEL,
        }
        key = self._key(challenge.id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields)
            pipe.expire(key, self.ttl)
            await pipe.execute()
        return challenge, code

    async def get(self, challenge_id: str, user_id: str) -> Challenge:
        """The user's open challenge; anyone else's answers as unknown."""
        found = await self.redis.hgetall(self._key(challenge_id))
        fields = {_text(k): _text(v) for k, v in found.items()}
        if not fields or not hmac.compare_digest(fields.get("uid", ""), user_id):
            raise ChallengeNotFound()
        method: Method = "totp" if fields["method"] == "totp" else "email"
        return Challenge(
            id=challenge_id,
            user_id=user_id,
            session_id=fields["sid"] or None,
            method=method,
            purpose=fields["purpose"],
            expires_at=int(fields["exp"]),
        )

    async def answer(
        self, challenge: Challenge, code: str, *, totp_ok: bool = False
    ) -> tuple[Outcome, int]:
        """Spend the challenge on a right answer; count a wrong one. (outcome,
        attempts left after a wrong one)."""
        candidate = code_digest(challenge.id, code) if challenge.method == "email" else ""
        outcome, left = await self._answer(
            keys=[self._key(challenge.id)],
            args=[challenge.user_id, candidate, "1" if totp_ok else "0", self.max_attempts],
        )
        return _text(outcome), int(left)  # type: ignore[return-value]

    async def drop(self, challenge_id: str) -> None:
        await self.redis.delete(self._key(challenge_id))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
