"""The API commands' HTTP behaviour at the boundary (respx, the shapes of
docs/admin.md and the admin service's schemas): what the real fleet does not
readily produce — prompts at a terminal, timeouts, non-JSON errors, a broken
ledger, every row and exit code of the tables."""

from __future__ import annotations

import getpass
import io
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import respx

from mindlinks_ops.client import DEFAULT_API

if TYPE_CHECKING:
    from conftest import Cli

API = "http://admin.test"
TOKEN = "token-of-an-admin"
BEARER = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[respx.MockRouter]:
    monkeypatch.setenv("MINDLINKS_API_URL", API)
    monkeypatch.setenv("MINDLINKS_ADMIN_TOKEN", TOKEN)
    with respx.mock(base_url=API, assert_all_called=False) as router:
        yield router


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> httpx.Response:
    body = {"type": f"https://api.mindlinks.com/problems/{code}", "status": status}
    return httpx.Response(
        status,
        json={**body, "code": code, "title": title, "detail": detail, **extra},
        headers={"content-type": "application/problem+json"},
    )


def service(name: str, **changes: Any) -> dict[str, Any]:
    return {
        "service": name,
        "live": True,
        "ready": True,
        "version": "0.1.0",
        "breakers": {},
        "outboxBacklog": 0,
        "queue": None,
        "latencyMs": 4.2,
        "revokedSubjects": 0,
        "error": None,
        "details": [],
        **changes,
    }


# credentials -------------------------------------------------------------------


async def test_token_from_the_environment(cli: Cli, api: respx.MockRouter) -> None:
    route = api.get("/v1/admin/ledger/verify").respond(json={"ok": True, "entries": 0})
    assert (await cli("ledger", "verify")).code == 0
    assert route.calls.last.request.headers["authorization"] == BEARER["authorization"]
    assert route.calls.last.request.headers["user-agent"] == "mindlinks-ops"


async def test_sign_in_with_email_and_password(
    cli: Cli, api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINDLINKS_ADMIN_PASSWORD", "Correct-Horse-9-Battery")
    login = api.post("/v1/auth/login").respond(
        json={"accessToken": "fresh", "refreshToken": "r", "tokenType": "Bearer", "expiresIn": 900}
    )
    verify = api.get("/v1/admin/ledger/verify").respond(json={"ok": True, "entries": 0})
    assert (await cli("ledger", "verify", "--email", "op@example.com", "--otp", "123456")).code == 0
    assert json.loads(login.calls.last.request.content) == {
        "email": "op@example.com",
        "password": "Correct-Horse-9-Battery",
        "mfaCode": "123456",
    }
    assert "authorization" not in login.calls.last.request.headers
    # --email wins over a token in the environment
    assert verify.calls.last.request.headers["authorization"] == "Bearer fresh"


async def test_mfa_required_without_a_terminal(
    cli: Cli, api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINDLINKS_ADMIN_PASSWORD", "Correct-Horse-9-Battery")
    api.post("/v1/auth/login").mock(
        return_value=problem(
            401,
            "mfa-required",
            "A one-time code from your authenticator app is required",
            "A one-time code from your authenticator app is required",
        )
    )
    result = await cli("fleet", "status", "--email", "op@example.com", stdin="")
    assert result.code == 1
    assert result.err == ("A one-time code from your authenticator app is required (give --otp)\n")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_prompts_at_a_terminal(
    cli: Cli, api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No password in the environment and MFA on: both are asked."""
    answers = ["Correct-Horse-9-Battery", "654321"]
    asked: list[str] = []

    def answer(prompt: str = "") -> str:
        asked.append(prompt)
        return answers.pop(0)

    monkeypatch.setattr(getpass, "getpass", answer)
    monkeypatch.setattr(sys, "stdin", Terminal())
    required = "A one-time code from your authenticator app is required"
    login = api.post("/v1/auth/login")
    login.side_effect = [
        problem(401, "mfa-required", required, required),
        httpx.Response(200, json={"accessToken": "fresh", "refreshToken": "r", "expiresIn": 900}),
    ]
    api.get("/v1/admin/ledger/verify").respond(json={"ok": True, "entries": 0})
    result = await cli("ledger", "verify", "--email", "op@example.com")
    assert result.code == 0, result.err
    assert asked == ["Password for op@example.com: ", "One-time code: "]
    assert json.loads(login.calls.last.request.content) == {
        "email": "op@example.com",
        "password": "Correct-Horse-9-Battery",
        "mfaCode": "654321",
    }


async def test_wrong_password(
    cli: Cli, api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINDLINKS_ADMIN_PASSWORD", "nope")
    api.post("/v1/auth/login").mock(
        return_value=problem(
            401,
            "invalid-credentials",
            "The email or password is not correct",
            "The email or password is not correct",
        )
    )
    result = await cli("ledger", "verify", "--email", "op@example.com")
    assert (result.code, result.err) == (1, "The email or password is not correct\n")


async def test_no_credentials(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    result = await cli("fleet", "status")
    assert result.code == 1
    assert "MINDLINKS_ADMIN_TOKEN" in result.err
    monkeypatch.setenv("MINDLINKS_ADMIN_TOKEN", TOKEN)
    result = await cli("fleet", "status", "--otp", "123456")
    assert (result.code, result.err) == (2, "--otp goes with --email\n")


# errors -------------------------------------------------------------------------


async def test_problem_is_title_and_detail(cli: Cli, api: respx.MockRouter) -> None:
    api.get("/v1/admin/fleet").mock(
        return_value=problem(403, "forbidden", "Not allowed", "This route is for the role admin")
    )
    result = await cli("fleet", "status")
    assert (result.code, result.out, result.err) == (
        1,
        "",
        "Not allowed: This route is for the role admin\n",
    )


async def test_invalid_input_lists_the_fields(cli: Cli, api: respx.MockRouter) -> None:
    api.post("/v1/admin/events/dead-letters/discard").mock(
        return_value=problem(
            422,
            "invalid-input",
            "The request is not valid",
            "Some fields are missing or invalid",
            errors=[
                {"location": ["body", "reason"], "message": "too short", "type": "string_too_short"}
            ],
        )
    )
    result = await cli(
        "dlq", "discard", "--service", "user", "--message-id", "m-1", "--reason", "no"
    )
    assert result.code == 1
    assert result.err == (
        "The request is not valid: Some fields are missing or invalid\n  reason: too short\n"
    )


async def test_an_error_that_is_not_problem_json(cli: Cli, api: respx.MockRouter) -> None:
    api.get("/v1/admin/fleet").respond(502, text="<html>upstream down</html>")
    result = await cli("fleet", "status")
    assert (result.code, result.err) == (1, "HTTP 502 Bad Gateway: <html>upstream down</html>\n")


async def test_unreachable_api_names_the_url(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINDLINKS_ADMIN_TOKEN", TOKEN)
    with respx.mock() as router:
        router.get(f"{DEFAULT_API}/v1/admin/fleet").mock(side_effect=httpx.ConnectError("refused"))
        result = await cli("fleet", "status")
    assert (result.code, result.err) == (
        1,
        f"could not reach {DEFAULT_API}/v1/admin/fleet: refused\n",
    )


async def test_timeout(cli: Cli, api: respx.MockRouter) -> None:
    api.get("/v1/admin/ledger/verify").mock(side_effect=httpx.ReadTimeout("slow"))
    result = await cli("ledger", "verify", "--api", API + "/")
    assert (result.code, result.err) == (
        1,
        f"{API}/v1/admin/ledger/verify did not answer in time\n",
    )


# fleet status -------------------------------------------------------------------


async def test_fleet_status_table(cli: Cli, api: respx.MockRouter) -> None:
    api.get("/v1/admin/fleet").respond(
        json={
            "services": [
                service("auth"),
                service(
                    "kyc",
                    breakers={"contractor": "open", "notification": "half-open", "x": "closed"},
                    outboxBacklog=3,
                    queue={"depth": 5, "inFlight": 1, "deadLetters": 2},
                    latencyMs=12.6,
                ),
            ],
            "partial": [],
        }
    )
    result = await cli("fleet", "status")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == [
        "SERVICE", "LIVE", "READY", "VERSION", "OPEN", "BREAKERS", "OUTBOX", "QUEUE", "DEAD",
        "LETTERS", "LATENCY",
    ]  # fmt: skip
    assert lines[1].split() == ["auth", "yes", "yes", "0.1.0", "-", "0", "-", "-", "4", "ms"]
    assert "contractor, notification (half-open)" in lines[2]
    assert "5 (+1 in flight)" in lines[2]
    assert lines[2].split()[-3:] == ["2", "13", "ms"]
    assert result.err == ""


async def test_fleet_status_not_ready_exits_1(cli: Cli, api: respx.MockRouter) -> None:
    body = {
        "services": [
            service("auth"),
            service(
                "kyc",
                live=False,
                ready=False,
                version=None,
                latencyMs=None,
                breakers=None,
                outboxBacklog=None,
                revokedSubjects=None,
                error="timeout",
                details=["kyc did not answer (timeout)"],
            ),
            service("ledger", ready=False, details=["ledger is not ready (ledger answered 503)"]),
            service("user", ready=False),
        ],
        "checkedAt": "2026-11-22T05:00:00Z",
        "deadlineSeconds": 2.0,
        "partial": [
            {"service": "kyc", "detail": "kyc did not answer (timeout)"},
            {"service": "ledger", "detail": "ledger is not ready (ledger answered 503)"},
        ],
    }
    api.get("/v1/admin/fleet").respond(json=body)
    result = await cli("fleet", "status")
    assert result.code == 1
    assert result.out.splitlines()[2].split() == ["kyc", "NO", "NO"] + ["-"] * 6
    assert result.err == (
        "kyc: kyc did not answer (timeout)\n"
        "ledger: ledger is not ready (ledger answered 503)\n"
        "user: not ready\n"
    )
    as_json = await cli("fleet", "status", "--json")
    assert as_json.code == 1
    assert json.loads(as_json.out) == body


async def test_fleet_status_live_but_not_fully_asked_exits_1(
    cli: Cli, api: respx.MockRouter
) -> None:
    detail = "payment answered 403 (forbidden): Only admin may call operations routes"
    api.get("/v1/admin/fleet").respond(
        json={
            "services": [service("auth"), service("payment", details=[detail])],
            "partial": [
                {"service": "payment", "detail": detail},
                {"service": "admin", "detail": "admin could not probe itself"},
            ],
        }
    )
    result = await cli("fleet", "status")
    assert (result.code, result.err) == (
        1,
        f"payment: {detail}\nincomplete: admin: admin could not probe itself\n",
    )


# dead letters ----------------------------------------------------------------------

LETTER = {
    "messageId": "m-1",
    "eventId": "e-1",
    "eventName": "user.created",
    "source": "mindlinks.auth",
    "error": "KeyError: 'name'\nTraceback ...",
    "failedAt": "2026-11-22T05:00:00Z",
    "receives": 5,
    "detail": {"id": "e-1"},
}


async def test_dlq_list_one_service(cli: Cli, api: respx.MockRouter) -> None:
    route = api.get("/v1/admin/events/dead-letters").respond(
        json={
            "service": "user",
            "items": [LETTER, {**LETTER, "messageId": "m-2", "eventName": None}],
        }
    )
    result = await cli("dlq", "list", "--service", "user", "--limit", "10")
    assert result.code == 0, result.err
    assert dict(route.calls.last.request.url.params) == {"service": "user", "limit": "10"}
    lines = result.out.splitlines()
    assert lines[0].split() == [
        "SERVICE", "MESSAGE", "ID", "EVENT", "FAILED", "AT", "RECEIVES", "ERROR",
    ]  # fmt: skip
    assert lines[1].split() == [
        "user", "m-1", "user.created", "2026-11-22T05:00:00Z", "5", "KeyError:", "'name'",
        "Traceback", "...",
    ]  # fmt: skip
    assert "(not an event)" in lines[2]
    as_json = await cli("dlq", "list", "--service", "user", "--json")
    assert json.loads(as_json.out)["items"][0] == {"service": "user", **LETTER}


async def test_dlq_list_every_service(cli: Cli, api: respx.MockRouter) -> None:
    """Only the queues holding dead letters are read (and those that did not say)."""
    api.get("/v1/admin/events/queues").respond(
        json={
            "items": [
                {"service": "user", "depth": 0, "inFlight": 0, "deadLetters": 1},
                {"service": "kyc", "depth": 0, "inFlight": 0, "deadLetters": 0},
                {"service": "ledger", "depth": None, "inFlight": None, "deadLetters": None},
            ],
            "partial": [{"service": "payment", "detail": "payment did not answer (timeout)"}],
        }
    )
    letters = api.get("/v1/admin/events/dead-letters")
    letters.side_effect = lambda request: httpx.Response(
        200,
        json={
            "service": request.url.params["service"],
            "items": [LETTER] if request.url.params["service"] == "user" else [],
        },
    )
    result = await cli("dlq", "list", "--json")
    assert [call.request.url.params["service"] for call in letters.calls] == ["user", "ledger"]
    assert json.loads(result.out) == {
        "items": [{"service": "user", **LETTER}],
        "partial": [{"service": "payment", "detail": "payment did not answer (timeout)"}],
    }
    assert (result.code, result.err) == (
        1,
        "incomplete: payment: payment did not answer (timeout)\n",
    )


async def test_dlq_list_empty(cli: Cli, api: respx.MockRouter) -> None:
    api.get("/v1/admin/events/queues").respond(
        json={"items": [{"service": "user", "deadLetters": 0}], "partial": []}
    )
    api.get("/v1/admin/events/dead-letters").respond(json={"service": "user", "items": []})
    every = await cli("dlq", "list")
    assert (every.code, every.out, every.err) == (0, "no dead letters\n", "")
    one = await cli("dlq", "list", "--service", "user")
    assert (one.code, one.out, one.err) == (0, "no dead letters in user\n", "")


async def test_dlq_replay_by_id(cli: Cli, api: respx.MockRouter) -> None:
    route = api.post("/v1/admin/events/dead-letters/replay").respond(
        json={"replayed": ["m-1", "m-2"], "notFound": []}
    )
    result = await cli(
        "dlq", "replay", "--service", "user", "--message-id", "m-1", "--message-id", "m-2"
    )
    assert result.code == 0, result.err
    assert json.loads(route.calls.last.request.content) == {
        "service": "user",
        "messageIds": ["m-1", "m-2"],
    }
    assert result.out == "replayed 2 message(s) to user's queue\n  m-1\n  m-2\n"


async def test_dlq_replay_all_and_not_found(cli: Cli, api: respx.MockRouter) -> None:
    route = api.post("/v1/admin/events/dead-letters/replay").respond(
        json={"replayed": [], "notFound": ["m-9"]}
    )
    result = await cli("dlq", "replay", "--service", "user", "--message-id", "m-9", "--json")
    assert result.code == 1
    assert json.loads(result.out) == {"replayed": [], "notFound": ["m-9"]}
    assert "m-9" in result.err

    route.respond(json={"replayed": ["m-1"], "notFound": []})
    assert (await cli("dlq", "replay", "--service", "user", "--all", "--reason", "fixed")).code == 0
    assert json.loads(route.calls.last.request.content) == {
        "service": "user",
        "all": True,
        "reason": "fixed",
    }


async def test_dlq_discard(cli: Cli, api: respx.MockRouter) -> None:
    route = api.post("/v1/admin/events/dead-letters/discard").respond(
        json={"discarded": [LETTER], "notFound": ["m-2"]}
    )
    result = await cli(
        "dlq", "discard", "--service", "user", "--message-id", "m-1", "m-2",
        "--reason", "  poison: a payload from the old schema  ",
    )  # fmt: skip
    assert json.loads(route.calls.last.request.content) == {
        "service": "user",
        "messageIds": ["m-1", "m-2"],
        "reason": "poison: a payload from the old schema",
    }
    assert result.out == (
        "discarded 1 message(s) from user's dead-letter queue\n  m-1  user.created\n"
    )
    assert result.code == 1
    assert "m-2" in result.err


# ledger ------------------------------------------------------------------------------


async def test_ledger_intact(cli: Cli, api: respx.MockRouter) -> None:
    api.get("/v1/admin/ledger/verify").respond(
        json={
            "ok": True,
            "entries": 12,
            "tip": {"seq": 12, "hash": "ab" * 32},
            "firstBrokenSeq": None,
            "problem": None,
        }
    )
    result = await cli("ledger", "verify")
    assert (result.code, result.out) == (
        0,
        f"ledger intact: 12 entries, tip seq 12 ({'ab' * 32})\n",
    )


async def test_ledger_broken_exits_2(cli: Cli, api: respx.MockRouter) -> None:
    body = {
        "ok": False,
        "entries": 12,
        "tip": None,
        "firstBrokenSeq": 7,
        "problem": "entry 7's previous hash is not entry 6's hash",
    }
    api.get("/v1/admin/ledger/verify").respond(json=body)
    result = await cli("ledger", "verify")
    assert (result.code, result.out) == (
        2,
        "ledger BROKEN at seq 7: entry 7's previous hash is not entry 6's hash\n",
    )
    as_json = await cli("ledger", "verify", "--json")
    assert (as_json.code, json.loads(as_json.out)) == (2, body)


# the command line --------------------------------------------------------------------


def test_argument_errors(cli: Cli) -> None:
    assert "one of the arguments --message-id --all is required" in cli.usage_error(
        "dlq", "replay", "--service", "user"
    )
    assert "not allowed with argument" in cli.usage_error(
        "dlq", "replay", "--service", "user", "--all", "--message-id", "m-1"
    )
    assert "--service" in cli.usage_error("dlq", "replay", "--all")
    assert "--reason" in cli.usage_error("dlq", "discard", "--service", "u", "--message-id", "m")
    assert "must not be empty" in cli.usage_error(
        "dlq", "discard", "--service", "u", "--message-id", "m", "--reason", " "
    )
    assert "--message-id" in cli.usage_error("dlq", "discard", "--service", "u", "--reason", "r")
    assert "give 1 to 100" in cli.usage_error("dlq", "list", "--limit", "0")
    assert "not a number" in cli.usage_error("dlq", "list", "--limit", "ten")
    assert "invalid choice" in cli.usage_error("fleet", "restart")
    assert "required" in cli.usage_error("ledger")
