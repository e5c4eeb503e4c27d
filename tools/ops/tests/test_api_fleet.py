"""The API commands against the real admin service and its real peers (the
whole installed fleet in-process, ``platform``), signed in as an admin that
``create-admin`` made: what an operator sees, and the exit codes."""

from __future__ import annotations

import contextlib
import io
import json
import re
import socket
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pyotp
import pytest

from mindlinks_auth.mfa import code_matches
from mindlinks_auth.service import sessions as auth_sessions
from mindlinks_dev import people
from mindlinks_dev.escrow_stand_in import EscrowStandIn, in_front_of_payment
from mindlinks_dev.harness import Running
from mindlinks_dev.local_companies import local_company
from mindlinks_fleet import FLEET
from mindlinks_kit.dynamo import to_wire
from mindlinks_kit.events.envelope import Detail
from mindlinks_ops.cli import run
from mindlinks_ops.console import Console

if TYPE_CHECKING:
    from conftest import Cli

PASSWORD = "Correct-Horse-9-Battery"
ADMIN_API = "http://admin"


class Edge(httpx.AsyncBaseTransport):
    """``/v1/auth/...`` to auth, everything else to the admin service: what the
    public edge does for these two areas, in-process."""

    def __init__(self, fleet: Running) -> None:
        self.auth = httpx.ASGITransport(app=fleet.apps["auth"])
        self.admin = httpx.ASGITransport(app=fleet.apps["admin"])

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = self.auth if request.url.path.startswith("/v1/auth/") else self.admin
        return await target.handle_async_request(request)


@dataclass
class Operator:
    fleet: Running
    email: str
    user_id: str
    secret: str
    """The TOTP key ``create-admin`` printed once."""


@pytest.fixture(scope="module")
async def operator(platform: Running) -> Operator:
    """An admin made with ``create-admin`` (the way the first one is)."""
    return await new_admin(platform)


async def new_admin(platform: Running) -> Operator:
    email = f"ops{uuid.uuid4().hex[:12]}@example.com"
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdin", io.StringIO(PASSWORD))
        code = await run(
            ["create-admin", "--email", email, "--name", "Ops", "--password-stdin", "--json"],
            console=Console(out, err),
        )
    assert code == 0, err.getvalue()
    created = json.loads(out.getvalue())
    return Operator(platform, email, created["id"], created["mfa"]["secret"])


@pytest.fixture
def ops(cli: Cli, operator: Operator, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The command line signed in as the operator (``--email``, password from the environment)."""
    monkeypatch.setenv("MINDLINKS_API_URL", ADMIN_API)
    monkeypatch.setenv("MINDLINKS_ADMIN_PASSWORD", PASSWORD)
    cli.transport = Edge(operator.fleet)
    cli.otp[operator.email] = pyotp.TOTP(operator.secret).now
    # These tests sign in many times a minute with the current code; auth's
    # refusal of a replayed code is auth's own tests' business.
    monkeypatch.setattr(auth_sessions, "spend_code", reusable_code)
    return cli


async def reusable_code(flags: Any, user_id: str, secret: str, code: str | None) -> bool:
    return bool(code_matches(secret, code))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextlib.contextmanager
def stopped(fleet: Running, service: str) -> Iterator[None]:
    """``service`` as the admin sees a stopped one: its port refuses connections."""
    peers = fleet.runtime("admin").peers
    ports = peers.ports
    peers.ports = {**ports, service: closed_port()}
    peers.mount(service, httpx.AsyncHTTPTransport())
    try:
        yield
    finally:
        peers.ports = ports
        peers.mount(service, httpx.ASGITransport(app=fleet.apps[service]))
        peers.breakers[service].close()


async def test_fleet_status(ops: Cli, operator: Operator) -> None:
    # A cold fleet's first probes also fetch keys and open clients; on a busy
    # test machine that takes longer than the admin's 1.5 s deadline.
    await ops("fleet", "status", "--email", operator.email)
    result = await ops("fleet", "status", "--email", operator.email)
    assert result.code == 0, result.err
    rows = {line.split()[0]: line.split() for line in result.out.splitlines()[1:]}
    assert set(rows) == {s.name for s in FLEET.services}
    assert all(row[1:4] == ["yes", "yes", "0.1.0"] for row in rows.values())
    assert result.err == ""


async def test_fleet_status_with_a_service_down(ops: Cli, operator: Operator) -> None:
    with stopped(operator.fleet, "payment"):
        result = await ops("fleet", "status", "--email", operator.email)
        as_json = await ops("fleet", "status", "--email", operator.email, "--json")
    assert result.code == 1
    row = next(line for line in result.out.splitlines() if line.startswith("payment "))
    assert row.split()[1:3] == ["NO", "NO"]
    # One line with the admin's reason (which of the three probes' failures it names is a race).
    assert re.fullmatch(r"payment: payment did not answer \([a-z ]+\)\n", result.err)
    assert as_json.code == 1
    payment = next(s for s in json.loads(as_json.out)["services"] if s["service"] == "payment")
    assert (payment["live"], payment["ready"]) == (False, False)
    assert payment["error"]


async def dead_letter(fleet: Running, service: str) -> str:
    """An event ``service`` has no handler for, dead-lettered by its real
    consumer; returns its message id in the dead-letter queue."""
    runtime = fleet.runtime(service)
    assert runtime.consumer is not None
    detail = Detail(data={"companyId": uuid.uuid4().hex})
    body = {
        "source": "mindlinks.client",
        "detail-type": "company.registered",
        "detail": detail.model_dump(mode="json", by_alias=True),
    }
    await runtime.aws.sqs.send_message(
        QueueUrl=runtime.consumer.queue_url, MessageBody=json.dumps(body)
    )
    await runtime.consumer.drain()
    listed = await runtime.aws.sqs.receive_message(
        QueueUrl=runtime.consumer.dead_letter_url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,
        WaitTimeSeconds=0,
    )
    for message in listed.get("Messages", []):
        if json.loads(message["Body"])["detail"]["id"] == detail.id:
            return message["MessageId"]
    raise AssertionError(f"{detail.id} was not dead-lettered")


async def audit(operator: Operator, **filters: Any) -> list[dict[str, Any]]:
    token = operator.fleet.access_token(operator.user_id, "admin")
    response = await operator.fleet.client("admin").get(
        "/v1/admin/audit", params=filters, headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_dead_letters_listed_replayed_and_discarded(ops: Cli, operator: Operator) -> None:
    kept = await dead_letter(operator.fleet, "user")
    dropped = await dead_letter(operator.fleet, "user")
    sign_in = ("--email", operator.email)

    listed = await ops("dlq", "list", "--service", "user", *sign_in)
    assert listed.code == 0, listed.err
    rows = {line.split()[1]: line for line in listed.out.splitlines()[1:]}
    assert {kept, dropped} <= set(rows)
    assert "company.registered" in rows[kept]
    everywhere = await ops("dlq", "list", "--json", *sign_in)
    assert everywhere.code == 0, everywhere.err
    found = {(i["service"], i["messageId"]) for i in json.loads(everywhere.out)["items"]}
    assert {("user", kept), ("user", dropped)} <= found

    replayed = await ops("dlq", "replay", "--service", "user", "--message-id", kept, *sign_in)
    assert (replayed.code, replayed.out) == (
        0,
        f"replayed 1 message(s) to user's queue\n  {kept}\n",
    )
    # The test session's other admins may have replayed user's letters too: ours only.
    [done, _] = await audit(
        operator,
        target="queue:user",
        action="dead-letters.replay",
        actorUserId=operator.user_id,
    )
    assert (done["actorUserId"], done["after"]["replayed"]) == (operator.user_id, [kept])

    reason = "a test event, never valid"
    discard = ("dlq", "discard", "--service", "user", "--message-id", dropped, "--reason", reason)
    discarded = await ops(*discard, *sign_in)
    assert discarded.code == 0, discarded.err
    assert discarded.out.splitlines()[1].split() == [dropped, "company.registered"]
    done, asked = await audit(operator, target=f"message:user:{dropped}")
    assert (asked["reason"], asked["before"]["messageId"]) == (reason, dropped)

    again = await ops(*discard, *sign_in)
    assert again.code == 1
    assert again.err == (
        f"not in the dead-letter queue (moved already, or never there): {dropped}\n"
    )


async def test_refusals_are_title_and_detail(ops: Cli, operator: Operator) -> None:
    unknown = await ops("dlq", "list", "--service", "mailer", "--email", operator.email)
    assert unknown.code == 1
    assert unknown.err.startswith("No such service queue: 'mailer' has no event queue; one of: ")

    short = await ops(
        "dlq", "discard", "--service", "user", "--message-id", "m-1", "--reason", "no",
        "--email", operator.email,
    )  # fmt: skip
    assert short.code == 1
    assert short.err.startswith("The request is not valid: ")
    assert "\n  reason: " in short.err


async def test_ledger_verify(ops: Cli, operator: Operator) -> None:
    result = await ops("ledger", "verify", "--email", operator.email)
    assert result.code == 0, result.err
    assert result.out.startswith("ledger intact: ")
    as_json = await ops("ledger", "verify", "--email", operator.email, "--json")
    assert json.loads(as_json.out)["ok"] is True


async def test_not_an_admin(ops: Cli, operator: Operator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINDLINKS_ADMIN_TOKEN", operator.fleet.access_token("u-1", "client"))
    result = await ops("ledger", "verify")
    assert result.code == 1
    assert result.err.startswith("Not allowed")
    assert result.out == ""


async def test_wrong_password(
    ops: Cli, operator: Operator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINDLINKS_ADMIN_PASSWORD", "Not-The-Password-1")
    result = await ops("fleet", "status", "--email", operator.email)
    assert (result.code, result.err) == (
        1,
        "The email or password is not correct, or the email is not verified yet\n",
    )


async def test_an_admin_signs_in_with_the_code(ops: Cli, operator: Operator) -> None:
    mfa = await new_admin(operator.fleet)
    refused = await ops("ledger", "verify", "--email", mfa.email, stdin="")
    assert (refused.code, refused.err) == (
        1,
        "A one-time code from your authenticator app is required (give --otp)\n",
    )
    code = pyotp.TOTP(mfa.secret).now()
    signed_in = await ops("ledger", "verify", "--email", mfa.email, "--otp", code)
    assert signed_in.code == 0, signed_in.err


async def test_a_token_without_the_second_factor(
    ops: Cli, operator: Operator, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = operator.fleet.access_token(operator.user_id, "admin", amr=("pwd",))
    monkeypatch.setenv("MINDLINKS_ADMIN_TOKEN", token)
    result = await ops("ledger", "verify")
    assert result.code == 1
    assert result.err.startswith("Sign in again with your second factor: ")


async def test_backfill_members_gives_old_companies_their_owner(
    ops: Cli, operator: Operator
) -> None:
    fleet = operator.fleet
    owner = await people.register(fleet, "client", "Ada Lovelace")
    await fleet.deliver()
    local = local_company()
    registered = await fleet.client("client").post(
        "/v1/clients/register",
        headers=owner.headers,
        json={
            "legalName": local.legal_name,
            "jurisdictionCode": "gb",
            "companyNumber": local.company_number,
            "address": {
                "line1": "1 Example Street",
                "city": "London",
                "postalCode": "EC1A 1AA",
                "country": "gb",
            },
        },
    )
    assert registered.status_code == 201, registered.text
    company_id = registered.json()["id"]
    # As before teams: the company has no member items.
    members = fleet.runtime("client").table("members")
    sides = (
        {"pk": f"company#{company_id}", "sk": f"user#{owner.user_id}"},
        {"pk": f"user#{owner.user_id}", "sk": f"company#{company_id}"},
    )
    for key in sides:
        await members.client.delete_item(TableName=members.name, Key=to_wire(key))  # type: ignore[arg-type]

    first = await ops("companies", "backfill-members", "--email", operator.email, "--json")
    assert first.code == 0, first.err
    assert json.loads(first.out)["added"] >= 1
    for key in sides:
        assert (await members.get(key) or {}).get("role") == "owner"
    again = await ops("companies", "backfill-members", "--email", operator.email)
    assert again.code == 0, again.err
    assert again.out.endswith("owner members added: 0\n")
    records = await audit(operator, action="company.backfill-members")
    assert {r["phase"] for r in records} >= {"requested", "succeeded"}


async def test_escrow_show_and_resolve_through_the_admin_service(
    ops: Cli, operator: Operator
) -> None:
    """Payment's escrow detail and resolution are the stand-in's (issue 15's
    routes, from their declarations); the admin service, its audit and the
    ledger are real."""
    with in_front_of_payment(operator.fleet, EscrowStandIn()) as escrow:
        item = escrow.add()
        shown = await ops("escrow", "show", item.id, "--email", operator.email)
        assert shown.code == 0, shown.err
        assert shown.out.startswith(f"escrow {item.id}: disputed\n")
        assert "funded → disputed" in shown.out
        assert shown.out.endswith("ledger: 0 entries\n")

        resolved = await ops(
            "escrow", "resolve", item.id, "--split", "100000",
            "--note", "Two of three pages", "--email", operator.email,
        )  # fmt: skip
        assert resolved.code == 0, resolved.err
        assert resolved.out == (
            f"resolved escrow {item.id}: split\n"
            "  to the contractor: 100000 EUR\n"
            "  back to the client: 50000 EUR\n"
        )
        assert escrow.resolutions[-1][1]["resolvedBy"] == operator.user_id

        again = await ops(
            "escrow", "resolve", item.id, "--refund", "--note", "Once more", "--email",
            operator.email,
        )  # fmt: skip
        assert (again.code, again.out, again.err) == (
            1,
            "",
            "Conflict with the current state: payment: the item is split\n",
        )

        unknown = await ops("escrow", "show", "esc-unknown", "--email", operator.email)
        assert (unknown.code, unknown.err) == (
            1,
            "No such escrowed item: No escrowed item esc-unknown\n",
        )
    audit = await operator.fleet.client("admin").get(
        "/v1/admin/audit",
        params={"target": f"escrow:{item.id}"},
        headers=operator.fleet.bearer(uuid.uuid4().hex, "admin"),
    )
    assert audit.status_code == 200, audit.text
    records = audit.json()["items"]
    assert [(r["actorUserId"], r["action"], r["phase"]) for r in reversed(records)] == [
        (operator.user_id, "escrow.view", "viewed"),
        (operator.user_id, "escrow.resolve", "requested"),
        (operator.user_id, "escrow.resolve", "succeeded"),
        (operator.user_id, "escrow.resolve", "requested"),
        (operator.user_id, "escrow.resolve", "failed"),
    ]
