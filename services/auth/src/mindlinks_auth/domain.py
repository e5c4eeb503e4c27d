"""Auth's rules: who may sign in, what a password must be, what a user and a
session are. Pure: no I/O, no FastAPI; raises the problems below."""

from __future__ import annotations

import itertools
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from email_validator import EmailNotValidError, validate_email

from mindlinks_fleet.events import Role
from mindlinks_kit.clock import now_iso
from mindlinks_kit.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem, Unauthorized


class EmailTaken(Conflict):
    code = "email-taken"
    title = "An account with this email already exists"


class WeakPassword(InvalidInput):
    code = "weak-password"
    title = "The password is too weak"


class InvalidCredentials(Unauthorized):
    code = "invalid-credentials"
    title = "The email or password is not correct, or the email is not verified yet"


class AccountSuspended(Forbidden):
    code = "account-suspended"
    title = "This account is suspended"


class InvalidEmailToken(Problem):
    status = 400
    code = "invalid-token"
    title = "The link is invalid, already used or expired"


class InvalidEmail(InvalidInput, ValueError):
    """Also a ``ValueError``, so request validation reports it per field."""

    code = "invalid-email"
    title = "The email address is not valid"


class UserNotFound(NotFound):
    code = "user-not-found"
    title = "No such user"


class InvalidRefreshToken(Unauthorized):
    code = "invalid-refresh-token"
    title = "The refresh token is invalid, expired or revoked"


class RefreshReused(Unauthorized):
    code = "refresh-reused"
    title = "This refresh token was already used; its session has been ended"


class SessionNotFound(NotFound):
    code = "session-not-found"
    title = "No such session"


Status = Literal["active", "suspended"]
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 256
"""Bounds the hashing work one request can ask for."""


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str
    role: Role
    password_hash: str
    created_at: str
    status: Status = "active"
    email_verified: bool = False
    mfa_enabled: bool = False
    mfa_secret: str | None = None
    """The TOTP secret, KMS-encrypted (base64)."""
    mfa_pending: str | None = None
    """A secret from ``mfa/setup`` not yet confirmed by a code (KMS-encrypted)."""
    token_epoch: int = 0
    """Bumped when every session must end (password reset, suspension); a
    session is valid only while its epoch equals the user's."""
    suspended_reason: str | None = None
    version: int = 1

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True)
class Session:
    """A signed-in device: the family its refresh tokens belong to."""

    id: str
    user_id: str
    created_at: str
    expires_at: int
    """Epoch seconds (the table's TTL attribute); moved on by each refresh."""
    ip: str
    user_agent: str
    token_epoch: int
    status: Literal["active", "revoked"] = "active"
    amr: tuple[str, ...] = ("pwd",)
    """How the session was signed in (RFC 8176); every access token it issues,
    refreshed ones included, says so."""

    def valid_for(self, user: User, now: float, max_seconds: int) -> bool:
        """Still a live session of this (active) user, within its absolute lifetime."""
        started = datetime.fromisoformat(self.created_at).timestamp()
        return (
            self.status == "active"
            and user.active
            and self.user_id == user.id
            and self.token_epoch == user.token_epoch
            and self.expires_at > now
            and now - started < max_seconds
        )


PASSWORD_ONLY = ("pwd",)
WITH_SECOND_FACTOR = ("pwd", "otp", "mfa")
"""RFC 8176: a password and a one-time code, so more than one factor."""


def sign_in_methods(second_factor: bool) -> tuple[str, ...]:
    return WITH_SECOND_FACTOR if second_factor else PASSWORD_ONLY


def new_user(
    *, email: str, name: str, role: Role, password_hash: str, email_verified: bool = False
) -> User:
    return User(
        id=new_id(),
        email=email,
        name=name,
        role=role,
        password_hash=password_hash,
        created_at=now_iso(),
        email_verified=email_verified,
    )


def normalize_email(raw: str) -> str:
    """Syntax-checked (no DNS lookup) and lowercased."""
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from None
    return checked.normalized.lower()


def lookup_email(raw: str) -> str:
    """How an email typed at sign-in is looked up (no syntax error to leak)."""
    return raw.strip().lower()


def check_can_sign_in(user: User) -> None:
    """After the right password. An unverified account answers as a wrong
    password would: anyone can register an address with a password of their
    own and sign in with it, and a distinct answer would then tell a new
    address from a taken one."""
    if not user.active:
        raise AccountSuspended()
    if not user.email_verified:
        raise InvalidCredentials()


# The bases of the most common passwords (lowercase, letters only): a
# password that is one of these plus digits and symbols is rejected.
_COMMON = frozenset(
    (
        "password",
        "passw0rd",
        "passwort",
        "motdepasse",
        "contrasena",
        "qwerty",
        "qwertyuiop",
        "qwertz",
        "azerty",
        "asdf",
        "asdfgh",
        "asdfghjkl",
        "zxcvbn",
        "zxcvbnm",
        "abc",
        "abcdef",
        "abcdefg",
        "abcdefgh",
        "abcdefghijkl",
        "letmein",
        "welcome",
        "iloveyou",
        "admin",
        "administrator",
        "root",
        "monkey",
        "dragon",
        "football",
        "baseball",
        "soccer",
        "hockey",
        "sunshine",
        "princess",
        "trustno",
        "master",
        "shadow",
        "superman",
        "batman",
        "michael",
        "jennifer",
        "login",
        "starwars",
        "whatever",
        "freedom",
        "secret",
        "summer",
        "winter",
        "spring",
        "autumn",
        "hello",
        "hunter",
        "killer",
        "changeme",
        "default",
        "mindlinks",
        "test",
        "testing",
        "guest",
        "user",
        "qazwsx",
    )
)
_CLASSES = (str.islower, str.isupper, str.isdigit)
_LEET = str.maketrans("@4301!|$57", "aaeoiilsst")


def password_problems(password: str, *, email: str, name: str) -> list[str]:
    """What is wrong with a new password (empty when it is acceptable)."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return [f"Use at least {PASSWORD_MIN_LENGTH} characters"]
    if len(password) > PASSWORD_MAX_LENGTH:
        return [f"Use at most {PASSWORD_MAX_LENGTH} characters"]
    problems = []
    classes = {i for c in password for i, test in enumerate(_CLASSES) if test(c)}
    if any(not any(test(c) for test in _CLASSES) for c in password):
        classes.add(len(_CLASSES))
    if len(classes) < 2:
        problems.append("Mix at least two of: lowercase, uppercase, digits, symbols")
    lowered = password.lower()
    if len(set(lowered)) < 5:
        problems.append("Use more different characters")
    if _is_common(lowered) or _is_sequence(lowered):
        problems.append("This password is too common")
    personal = {email.partition("@")[0], *re.split(r"[\s._\-+@]+", f"{email} {name}".lower())}
    if any(len(part) >= 4 and part in lowered for part in personal if part):
        problems.append("Do not use your name or email in the password")
    return problems


def _is_common(lowered: str) -> bool:
    """A common base, maybe in l33t, repeated, or padded with digits and symbols."""
    core = re.sub(r"^[^a-z]+|[^a-z]+$", "", lowered).translate(_LEET)
    for candidate in (re.sub(r"[^a-z]", "", lowered), re.sub(r"[^a-z]", "", core)):
        if _repeated_unit(candidate) in _COMMON:
            return True
    return lowered in _COMMON


def _repeated_unit(text: str) -> str:
    """``abcabcabc`` → ``abc``."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text


def _is_sequence(text: str) -> bool:
    """Only a run like ``123456789012`` or ``abcdefghijkl`` (steps of +1 or -1)."""
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(text)}
    return steps in ({1}, {-1})


def check_password(password: str, *, email: str, name: str) -> None:
    problems = password_problems(password, email=email, name=name)
    if problems:
        raise WeakPassword(
            " ".join(problems),
            errors=[
                {"location": ["body", "password"], "message": message, "type": "weak-password"}
                for message in problems
            ],
        )


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True)
class Introspection:
    active: bool
    sub: str | None = None
    role: str | None = None
    sid: str | None = None
    exp: int | None = None
