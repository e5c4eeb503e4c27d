"""Sign-in throttling in Redis, per account and per client address.

Fixed windows: ``max_failures_per_account`` failures within ``window``
lock the account for ``lockout`` seconds (even the right password is refused
then); ``max_failures_per_ip`` failures from one address within ``window``
block that address until the window ends. A success clears the account's
count. Accounts are keyed by a digest of the email, never the address itself.
"""

from __future__ import annotations

from redis.asyncio import Redis

from mindlinks_auth.settings import Settings
from mindlinks_auth.tokens import digest
from mindlinks_kit.errors import TooManyRequests


class LoginThrottled(TooManyRequests):
    code = "login-throttled"
    title = "Too many failed sign-in attempts; try again later"


class LoginThrottle:
    def __init__(self, redis: Redis, prefix: str, settings: Settings) -> None:
        self.redis = redis
        self.prefix = f"{prefix}throttle:"
        self.window = settings.login_window_seconds
        self.lockout = settings.login_lockout_seconds
        self.max_account = settings.login_max_failures_per_account
        self.max_ip = settings.login_max_failures_per_ip

    def _account(self, email: str) -> str:
        return f"{self.prefix}account:{digest(email)[:32]}"

    def _lock(self, email: str) -> str:
        return f"{self.prefix}lock:{digest(email)[:32]}"

    def _ip(self, ip: str) -> str:
        return f"{self.prefix}ip:{ip}"

    async def check(self, email: str, ip: str) -> None:
        """Refuse the attempt while the account is locked or the address blocked."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.ttl(self._lock(email))
            pipe.get(self._ip(ip))
            pipe.ttl(self._ip(ip))
            lock_ttl, ip_failures, ip_ttl = await pipe.execute()
        if lock_ttl and lock_ttl > 0:
            raise LoginThrottled(retry_after=int(lock_ttl))
        if ip_failures and int(ip_failures) >= self.max_ip:
            raise LoginThrottled(retry_after=max(int(ip_ttl), 1))

    async def failed(self, email: str, ip: str) -> None:
        account = self._account(email)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.incr(account)
            pipe.expire(account, self.window, nx=True)
            pipe.incr(self._ip(ip))
            pipe.expire(self._ip(ip), self.window, nx=True)
            account_failures, _, _, _ = await pipe.execute()
        if int(account_failures) >= self.max_account:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.set(self._lock(email), "1", ex=self.lockout)
                pipe.delete(account)
                await pipe.execute()

    async def succeeded(self, email: str) -> None:
        await self.redis.delete(self._account(email))

    async def reset(self, email: str) -> None:
        """A password reset proves the owner: lift the account's lock."""
        await self.redis.delete(self._account(email), self._lock(email))
