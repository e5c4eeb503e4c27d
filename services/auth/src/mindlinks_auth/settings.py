"""Auth settings: the shared ones plus auth's own policies."""

from __future__ import annotations

from typing import ClassVar

from mindlinks_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    uses_redis: ClassVar[bool] = True

    refresh_token_ttl_seconds: int = 7 * 24 * 3600
    """A refresh token's lifetime; each rotation issues a fresh one."""
    session_max_seconds: int = 30 * 24 * 3600
    """Absolute session lifetime: rotation cannot keep a session alive past it."""
    verify_email_ttl_seconds: int = 24 * 3600
    reset_password_ttl_seconds: int = 3600
    email_resend_cooldown_seconds: int = 60
    """At most one verification or reset email per address in this window."""

    login_window_seconds: int = 900
    login_max_failures_per_account: int = 5
    login_lockout_seconds: int = 900
    login_max_failures_per_ip: int = 20

    signing_keys_reload_seconds: float = 30.0
    """How stale this process's copy of the signing keys may get before it
    re-reads them (another process may have rotated)."""
    signing_key_activation_seconds: float = 60.0
    """A rotated-in key is published at once and signs this much later: longer
    than ``signing_keys_reload_seconds`` plus the verifiers' JWKS refresh, so no
    service meets a token whose key it cannot know yet."""
    mfa_issuer: str = "Mind-Links"
