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
    account_exists_cooldown_seconds: int = 3600
    """At most one "someone tried to register with your address" notice per
    address in this window (anyone can trigger it: no mail bombing)."""

    # Sign-in throttling (``throttle``; the numbers and why: the README).
    login_pair_free_failures: int = 5
    """Failures of one (account, address) pair before it must wait."""
    login_pair_base_delay_seconds: float = 1.0
    """The first wait; it doubles with each further failure of the pair."""
    login_pair_max_delay_seconds: int = 300
    login_pair_memory_seconds: int = 3600
    """A pair's failures are forgotten this long after its last one."""
    login_account_max_failures: int = 100
    """The hard ceiling: failures of one account, from anywhere, in the window."""
    login_account_window_seconds: int = 600
    login_address_burst: int = 50
    """Failures one address may make at once (any accounts)..."""
    login_address_interval_seconds: float = 10.0
    """...then one per this interval (refilled at the same pace)."""
    login_known_pair_seconds: int = 30 * 24 * 3600
    """How long a pair that signed in skips the address limit."""

    signing_keys_reload_seconds: float = 30.0
    """How stale this process's copy of the signing keys may get before it
    re-reads them (another process may have rotated)."""
    signing_key_activation_seconds: float = 60.0
    """A rotated-in key is published at once and signs this much later: longer
    than ``signing_keys_reload_seconds`` plus the verifiers' JWKS refresh, so no
    service meets a token whose key it cannot know yet."""
    mfa_issuer: str = "Mind-Links"

    # Step-up before a sensitive action (``step_up``; the numbers and why: the README).
    step_up_code_ttl_seconds: int = 600
    """How long a step-up challenge (and the code mailed for it) can be answered."""
    step_up_max_attempts: int = 5
    """Wrong codes one challenge takes before it is void (ask for a new one)."""
    step_up_token_ttl_seconds: int = 300
    """A step-up token's lifetime: long enough to review and sign, no longer."""
    step_up_challenges_per_window: int = 20
    """Mailed codes one user may ask for per window (a company owner signing a
    batch of contracts needs one each; a mail bomb needs more)..."""
    step_up_challenge_window_seconds: int = 600
