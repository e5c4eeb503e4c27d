"""``create-admin``: the first admin, made by auth's own code.

No public route makes an admin, so this command runs the auth service in this
process — its real app, built from this environment's ``MINDLINKS_*``
settings, against the same tables, keys and Redis as the deployed service —
and calls ``accounts.create_admin``. The account and its ``user.created``
event commit together; the app's shutdown flushes the outbox (and the running
auth service's relay would publish anything left behind).

Auth is loaded lazily through the fleet's ``mindlinks.services`` entry point:
the API commands need only httpx, and services never import tools.
"""

from __future__ import annotations

import contextlib
import getpass
import importlib
import io
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from mindlinks_ops.client import CommandFailed, problem_line
from mindlinks_ops.console import Console

SERVICES_ENTRY_POINT = "mindlinks.services"
PASSWORDS_DIFFER = "The passwords do not match"
EMF_LINE = '{"_aws":'
LOCAL_STATE = Path(".run") / "state.json"
"""Where ``make run`` (``mindlinks-local``) writes its embedded AWS and Redis endpoints."""


CODE_TRIES = 3


@dataclass(frozen=True)
class Mfa:
    """The new admin's TOTP key: shown once, never stored outside auth (sealed)."""

    secret: str
    otpauth_uri: str


@dataclass(frozen=True)
class CreatedAdmin:
    id: str
    email: str
    name: str
    role: str
    mfa: Mfa


class ServiceOutput(io.TextIOBase):
    """The in-process service's stdout: its log lines go to stderr (stdout
    carries the command's answer); its metrics lines (CloudWatch EMF, which
    mean nothing outside AWS) are dropped."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not text.startswith(EMF_LINE):
            sys.stderr.write(text)
        return len(text)


def read_password(*, from_stdin: bool) -> str:
    """The first line of stdin, or asked twice at the terminal."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        try:
            password = getpass.getpass("Password for the new admin: ")
            if password != getpass.getpass("Repeat the password: "):
                raise CommandFailed(PASSWORDS_DIFFER)
        except (EOFError, KeyboardInterrupt):
            raise CommandFailed("cancelled") from None
    if not password:
        raise CommandFailed("no password given")
    return password


def read_code(prompt: str = "One-time code from your authenticator app: ") -> str:
    try:
        return getpass.getpass(prompt).strip()
    except (EOFError, KeyboardInterrupt):
        raise CommandFailed("cancelled; no admin was created") from None


async def create_admin(
    app: Any,
    *,
    email: str,
    name: str,
    password: str,
    confirm: Callable[[Mfa], None] | None = None,
) -> CreatedAdmin:
    """Run ``app`` (``auth_app()``) and create the admin with TOTP on (an admin
    acts only with a second factor). ``confirm`` is shown the new key before
    anything is stored and raises ``CommandFailed`` to create nothing (the
    operator could not prove a code). Raises ``CommandFailed`` with auth's own
    message when auth refuses (email taken, weak password, invalid email) or
    cannot start."""
    from mindlinks_kit.errors import Problem  # comes with auth

    mfa_module = importlib.import_module("mindlinks_auth.mfa")
    with contextlib.redirect_stdout(ServiceOutput()):
        try:
            async with app.router.lifespan_context(app):
                deps = app.state.deps
                checked = await deps.accounts.check_new_admin(
                    email=email, password=password, name=name
                )
                secret = mfa_module.new_secret()
                mfa = Mfa(
                    secret, mfa_module.provisioning_uri(secret, checked, deps.settings.mfa_issuer)
                )
                if confirm is not None:
                    confirm(mfa)
                user = await deps.accounts.create_admin(
                    email=email, password=password, name=name, mfa_secret=secret
                )
        except Problem as problem:
            if problem.code == "email-taken":
                raise CommandFailed(f"{problem.title}: {email}") from None
            raise CommandFailed(problem_line(problem.title, problem.detail)) from None
        except CommandFailed:
            raise
        except Exception as exc:  # AWS, Redis, keys: one line, not a traceback
            raise CommandFailed(f"auth failed here: {type(exc).__name__}: {exc}") from None
    return CreatedAdmin(id=user.id, email=user.email, name=user.name, role=user.role, mfa=mfa)


def at_the_terminal(console: Console) -> Callable[[Mfa], None]:
    """Show the new key and ask for a code from the operator's app until one
    matches (``CODE_TRIES`` times): only then is the admin created, so no
    admin exists whose second factor nobody holds."""

    def confirm(mfa: Mfa) -> None:
        console.say(
            "Admins sign in with a one-time code. Add this key to your authenticator "
            "app now; it is shown only once."
        )
        console.say(f"  key: {mfa.secret}")
        console.say(f"  URI (for a QR code): {mfa.otpauth_uri}")
        for _ in range(CODE_TRIES):
            if code_matches(mfa.secret, read_code()):
                return
            console.warn("That code does not match (is the device's clock right?); try again.")
        raise CommandFailed("no matching one-time code: no admin was created")

    return confirm


def code_matches(secret: str, code: str) -> bool:
    """Auth's own check of a TOTP code (without spending it: the operator's
    first sign-in may use the same code)."""
    matches: bool = importlib.import_module("mindlinks_auth.mfa").code_matches(secret, code)
    return matches


def local_settings(start: Path) -> dict[str, Any]:
    """The settings of the fleet ``make run`` is running (from ``.run/state.json``
    in ``start`` or a parent), so ``--local`` needs no exported variables."""
    for folder in (start, *start.parents):
        path = folder / LOCAL_STATE
        if path.is_file():
            return state_settings(path)
    raise CommandFailed(f"no local fleet is running here ({LOCAL_STATE} not found)")


def state_settings(path: Path) -> dict[str, Any]:
    """The settings of the local fleet whose state file is ``path`` (``--state``:
    a fleet started with ``mindlinks-local --run-dir``)."""
    if not path.is_file():
        raise CommandFailed(f"no local fleet's state at {path}")
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        settings = {
            "environment": "local",
            "aws_endpoint_url": str(state["aws"]["endpoint"]),
            "resource_prefix": str(state["aws"]["prefix"]),
            "redis_url": str(state["redis"]["url"]),
        }
    except (ValueError, KeyError, TypeError):
        raise CommandFailed(f"{path} is not a local fleet's state") from None
    # Moto accepts any credentials; boto needs some to sign with.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    return settings


def auth_app(local: bool = False, state: Path | None = None) -> Any:
    """Auth's own app as this process runs it: the environment's settings (or
    the local fleet's: found from here with ``local``, or the one whose state
    file is ``state``), without background workers."""
    found = entry_points(group=SERVICES_ENTRY_POINT, name="auth")
    if not found:
        raise CommandFailed(
            "the auth service is not installed here (pip install 'mindlinks-ops[auth]')"
        )
    create = next(iter(found)).load()
    settings_type = importlib.import_module("mindlinks_auth.settings").Settings
    # No relay loop and no queue consumer: this process must not take
    # messages meant for the running auth service.
    overrides: dict[str, Any] = {}
    if state is not None:
        overrides = state_settings(state)
    elif local:
        overrides = local_settings(Path.cwd())
    overrides["background_workers"] = False
    if "MINDLINKS_LOG_LEVEL" not in os.environ:
        overrides["log_level"] = "WARNING"
    try:
        settings = settings_type(**overrides)
    except ValueError as exc:  # pydantic's ValidationError: what the service itself refuses
        errors = exc.errors() if hasattr(exc, "errors") else [{"msg": str(exc)}]
        reasons = "; ".join(str(error.get("msg", "")) for error in errors)
        raise CommandFailed(f"auth's settings are not valid here: {reasons}") from None
    return create(settings)
