"""``create-admin`` runs auth's own code against moto and the real Redis (the
settings come from the environment the pytest plugin sets, as they would
from a deployed task's), then the admin signs in through the real auth app."""

from __future__ import annotations

import asyncio
import getpass
import io
import json
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyotp
import pytest

from mindlinks_dev.bootstrap import Bootstrapped
from mindlinks_dev.harness import Running
from mindlinks_dev.pytest_plugin import StartServices
from mindlinks_kit.dynamo import values
from mindlinks_kit.errors import Problem
from mindlinks_ops.create_admin import ServiceOutput, auth_app

if TYPE_CHECKING:
    from conftest import Cli

PASSWORD = "Correct-Horse-9-Battery"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture(scope="module")
async def auth(start_services: StartServices) -> AsyncIterator[Running]:
    async with start_services("auth") as running:
        yield running


async def signs_in(auth: Running, email: str, out: str) -> None:
    """The admin signs in with the key the command printed (once, for scripts)."""
    found = re.search(r"TOTP key \(shown once; [^)]*\): ([A-Z2-7]+)", out)
    assert found, out
    login = await auth.client("auth").post(
        "/v1/auth/login",
        json={"email": email, "password": PASSWORD, "mfaCode": pyotp.TOTP(found[1]).now()},
    )
    assert login.status_code == 200, login.text


def new_email() -> str:
    return f"op{uuid.uuid4().hex[:12]}@example.com"


@pytest.fixture
def prompts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """What the operator types at each ``getpass`` prompt, in order."""
    answers: list[str] = []
    asked: list[str] = []

    def answer(prompt: str = "") -> str:
        asked.append(prompt)
        return answers.pop(0)

    monkeypatch.setattr(getpass, "getpass", answer)
    yield answers
    assert not answers, f"not asked: {answers} (asked {asked})"


async def test_creates_an_admin_who_signs_in(cli: Cli, auth: Running) -> None:
    email = new_email()
    result = await cli(
        "create-admin",
        "--email",
        email.upper(),
        "--name",
        " Grace Hopper ",
        "--password-stdin",
        "--json",
        stdin=PASSWORD + "\n",
    )
    assert result.code == 0, result.err
    created = json.loads(result.out)  # only the answer on stdout: the app logged to stderr
    secret = created["mfa"]["secret"]
    assert created == {
        "id": created["id"],
        "email": email,
        "name": "Grace Hopper",
        "role": "admin",
        "mfa": {
            "secret": secret,
            "otpauthUri": pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name="Mind-Links"),
        },
    }

    # An admin has a second factor from the start: the password alone is not enough.
    client = auth.client("auth")
    login = await client.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert (login.status_code, login.json()["code"]) == (401, "mfa-required")
    login = await client.post(
        "/v1/auth/login",
        json={"email": email, "password": PASSWORD, "mfaCode": pyotp.TOTP(secret).now()},
    )
    assert login.status_code == 200, login.text
    me = await client.get(
        "/v1/auth/me", headers={"authorization": f"Bearer {login.json()['accessToken']}"}
    )
    assert me.json() | {"createdAt": None} == {
        "id": created["id"],
        "email": email,
        "name": "Grace Hopper",
        "role": "admin",
        "emailVerified": True,
        "mfaEnabled": True,
        "status": "active",
        "createdAt": None,
    }


async def test_the_event_left_with_the_shutdown(cli: Cli, auth: Running) -> None:
    """``user.created`` committed with the account, and the app's shutdown
    published it: nothing of it is left pending in auth's outbox."""
    result = await cli(
        "create-admin",
        "--email",
        new_email(),
        "--name",
        "Ada",
        "--password-stdin",
        "--json",
        stdin=PASSWORD,
    )
    assert result.code == 0, result.err
    user_id = json.loads(result.out)["id"]
    assert await auth.published("auth", "user.created", userId=user_id, role="admin")
    pending, _ = (
        await auth.runtime("auth")
        .table("outbox")
        .query("pendingShard = :p", values=values(p="p"), index="pending", limit=500)
    )
    assert not [item for item in pending if user_id in item["detail"]]


@pytest.fixture
def known_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    """The key auth generates next (to answer the code prompt with)."""
    monkeypatch.setattr(pyotp, "random_base32", lambda: SECRET)
    return SECRET


async def test_at_a_terminal_the_code_is_proven_first(
    cli: Cli, auth: Running, prompts: list[str], known_secret: str
) -> None:
    email = new_email()
    prompts.extend([PASSWORD, PASSWORD, "000000", pyotp.TOTP(known_secret).now()])
    result = await cli("create-admin", "--email", email, "--name", "Grace")
    assert result.code == 0, result.err
    assert f"key: {known_secret}" in result.out
    assert "otpauth://totp/" in result.out
    assert result.out.splitlines()[-1].startswith(f"created admin {email} (id ")
    assert result.err.startswith("That code does not match")
    login = await auth.client("auth").post(
        "/v1/auth/login",
        json={
            "email": email,
            "password": PASSWORD,
            "mfaCode": pyotp.TOTP(known_secret).at(time.time(), counter_offset=1),
        },
    )
    assert login.status_code == 200, login.text


async def test_no_admin_without_a_proven_code(
    cli: Cli, auth: Running, prompts: list[str], known_secret: str
) -> None:
    email = new_email()
    prompts.extend([PASSWORD, PASSWORD, "000000", "123", "999999"])
    result = await cli("create-admin", "--email", email, "--name", "Grace")
    assert result.code == 1
    assert result.err.endswith("no matching one-time code: no admin was created\n")
    assert await auth.deps("auth").store.user_by_email(email) is None


async def test_auth_refuses_an_admin_without_a_second_factor(auth: Running) -> None:
    """Whoever calls auth's account code: an admin comes with a usable TOTP key."""
    accounts = auth.deps("auth").accounts
    for secret in ("", "SHORT234", "not base32 at all but quite long enough"):
        with pytest.raises(Problem) as refused:
            await accounts.create_admin(
                email=new_email(), password=PASSWORD, name="Grace", mfa_secret=secret
            )
        assert refused.value.code == "mfa-secret-invalid"


async def test_passwords_that_differ(
    cli: Cli, fleet_resources: Bootstrapped, prompts: list[str]
) -> None:
    prompts.extend([PASSWORD, PASSWORD + "x"])
    result = await cli("create-admin", "--email", new_email(), "--name", "Grace")
    assert (result.code, result.out, result.err) == (1, "", "The passwords do not match\n")


async def test_email_taken(cli: Cli, auth: Running) -> None:
    email = new_email()
    argv = ("create-admin", "--email", email, "--name", "Grace", "--password-stdin")
    assert (await cli(*argv, stdin=PASSWORD)).code == 0
    again = await cli(*argv, stdin=PASSWORD)
    assert again.code == 1
    assert again.err == f"An account with this email already exists: {email}\n"
    assert again.out == ""


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short-1A", "Use at least 12 characters"),
        ("passwordpassword", "Mix at least two of: lowercase, uppercase, digits, symbols"),
    ],
)
async def test_weak_password(
    cli: Cli, fleet_resources: Bootstrapped, password: str, rule: str
) -> None:
    result = await cli(
        "create-admin",
        "--email",
        new_email(),
        "--name",
        "Grace",
        "--password-stdin",
        stdin=password,
    )
    assert result.code == 1
    assert result.err.startswith("The password is too weak: ")
    assert rule in result.err


async def test_invalid_email(cli: Cli, fleet_resources: Bootstrapped) -> None:
    result = await cli(
        "create-admin",
        "--email",
        "not-an-email",
        "--name",
        "Grace",
        "--password-stdin",
        stdin=PASSWORD,
    )
    assert result.code == 1
    assert result.err.startswith("The email address is not valid: ")


async def test_empty_password(cli: Cli, fleet_resources: Bootstrapped) -> None:
    result = await cli(
        "create-admin", "--email", new_email(), "--name", "Grace", "--password-stdin", stdin="\n"
    )
    assert (result.code, result.err) == (1, "no password given\n")


def test_argument_errors(cli: Cli) -> None:
    assert "--name" in cli.usage_error("create-admin", "--email", "a@example.com")
    assert "--email" in cli.usage_error("create-admin", "--name", "Grace")
    assert "1 to 200 characters" in cli.usage_error(
        "create-admin", "--email", "a@example.com", "--name", "   "
    )
    assert "invalid choice" in cli.usage_error("make-admin")


async def test_auth_runs_here_without_background_workers(
    fleet_resources: Bootstrapped, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the environment says, this process neither relays on a loop nor
    consumes auth's queue: those messages belong to the running service."""
    monkeypatch.setenv("MINDLINKS_BACKGROUND_WORKERS", "true")
    monkeypatch.delenv("MINDLINKS_LOG_LEVEL")
    app = auth_app()
    async with app.router.lifespan_context(app):
        settings = app.state.runtime.settings
        assert (settings.background_workers, settings.log_level) == (False, "WARNING")
        assert settings.resource_prefix == fleet_resources.prefix
        running = {task.get_name() for task in asyncio.all_tasks()}
        assert not running & {"outbox-relay", "event-consumer", "revocations"}


async def test_settings_auth_itself_refuses(
    cli: Cli, fleet_resources: Bootstrapped, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINDLINKS_ENVIRONMENT", "prod")
    result = await cli(
        "create-admin", "--email", new_email(), "--name", "Grace", "--password-stdin",
        stdin=PASSWORD,
    )  # fmt: skip
    assert result.code == 1
    assert result.err.startswith("auth's settings are not valid here: ")
    assert "MINDLINKS_CURSOR_SECRET must be set (not the development value) outside local mode" in (
        result.err
    )


async def test_local_uses_the_running_fleets_state(
    cli: Cli,
    auth: Running,
    fleet_resources: Bootstrapped,
    aws_endpoint: str,
    test_redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--local`` reads ``.run/state.json`` (from a parent folder too), not MINDLINKS_*."""
    (tmp_path / ".run").mkdir()
    (tmp_path / ".run" / "state.json").write_text(
        json.dumps(
            {
                "status": "ready",
                "aws": {"endpoint": aws_endpoint, "prefix": fleet_resources.prefix},
                "redis": {"url": test_redis_url, "kind": "REDIS_URL"},
            }
        )
    )
    (tmp_path / "services").mkdir()
    monkeypatch.chdir(tmp_path / "services")
    for name in ("MINDLINKS_AWS_ENDPOINT_URL", "MINDLINKS_RESOURCE_PREFIX", "MINDLINKS_REDIS_URL"):
        monkeypatch.delenv(name)
    email = new_email()
    result = await cli(
        "create-admin", "--local", "--email", email, "--name", "Grace", "--password-stdin",
        stdin=PASSWORD,
    )  # fmt: skip
    assert result.code == 0, result.err
    await signs_in(auth, email, result.out)


async def test_state_names_the_fleets_state_file(
    cli: Cli,
    auth: Running,
    fleet_resources: Bootstrapped,
    aws_endpoint: str,
    test_redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--state PATH``: a fleet run with ``mindlinks-local --run-dir``, from any folder."""
    state = tmp_path / "fleet" / "state.json"
    state.parent.mkdir()
    state.write_text(
        json.dumps(
            {
                "aws": {"endpoint": aws_endpoint, "prefix": fleet_resources.prefix},
                "redis": {"url": test_redis_url, "kind": "REDIS_URL"},
            }
        )
    )
    monkeypatch.chdir(tmp_path)  # no .run here: --local would find nothing
    for name in ("MINDLINKS_AWS_ENDPOINT_URL", "MINDLINKS_RESOURCE_PREFIX", "MINDLINKS_REDIS_URL"):
        monkeypatch.delenv(name)
    email = new_email()
    result = await cli(
        "create-admin", "--state", str(state), "--email", email, "--name", "Grace",
        "--password-stdin", stdin=PASSWORD,
    )  # fmt: skip
    assert result.code == 0, result.err
    await signs_in(auth, email, result.out)


async def test_state_that_is_not_there(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "state.json"
    result = await cli(
        "create-admin", "--state", str(missing), "--email", new_email(), "--name", "G"
    )
    assert (result.code, result.err) == (1, f"no local fleet's state at {missing}\n")
    assert "not allowed with argument" in cli.usage_error(
        "create-admin",
        "--local",
        "--state",
        str(missing),
        "--email",
        "a@example.com",
        "--name",
        "G",
    )


async def test_local_without_a_running_fleet(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = await cli("create-admin", "--local", "--email", new_email(), "--name", "Grace")
    assert (result.code, result.err) == (
        1,
        "no local fleet is running here (.run/state.json not found)\n",
    )
    (tmp_path / ".run").mkdir()
    (tmp_path / ".run" / "state.json").write_text('{"aws": {}}')
    result = await cli("create-admin", "--local", "--email", new_email(), "--name", "Grace")
    assert (result.code, result.err) == (
        1,
        f"{tmp_path / '.run' / 'state.json'} is not a local fleet's state\n",
    )


def test_the_services_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """Log lines reach stderr; metrics lines (CloudWatch EMF) do not."""
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    output = ServiceOutput()
    output.write('{"_aws":{"Timestamp":1},"EventsPublished":1}\n')
    print('{"event": "outbox.publish_failed", "level": "warning"}', file=output, flush=True)
    assert err.getvalue() == '{"event": "outbox.publish_failed", "level": "warning"}\n'
