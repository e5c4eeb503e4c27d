"""POST /internal/notifications/send: templates, opt-outs, essential mail, dedupe."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mindlinks_dev.harness import Running
from mindlinks_dev.problem import problem

if TYPE_CHECKING:
    from conftest import Accounts


def verify_email(to: str, user_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "template": "auth.verify-email",
        "recipient": {"userId": user_id, "email": to, "name": "Ada <Admin>"},
        "data": {
            "verifyUrl": "https://app.example/verify?t=a&b=c",
            "token": "123456",
            "name": "Ada <Admin>",
        },
        "essential": True,
        **extra,
    }


def welcome(account: Any, **extra: Any) -> dict[str, Any]:
    return {
        "template": "user.welcome",
        "recipient": {"userId": account.user_id, "email": account.email, "name": account.name},
        "data": {"name": account.name, "dashboardUrl": "https://app.example"},
        **extra,
    }


async def test_an_essential_mail_lands_in_the_mailbox(accounts: Accounts) -> None:
    to = f"{uuid.uuid4().hex}@example.com"
    response = await accounts.send(verify_email(to))
    assert response.status_code == 202, response.text
    result = response.json()
    assert result["skipped"] is False
    assert result["channels"] == ["email"]

    [mail] = await accounts.mailbox(to)
    assert mail["id"] == result["id"]
    assert mail["to"] == to
    assert mail["template"] == "auth.verify-email"
    assert mail["subject"] == "Confirm your email address"
    assert mail["data"]["token"] == "123456"
    assert "https://app.example/verify?t=a&b=c" in mail["text"]
    assert "Hello Ada <Admin>," in mail["text"]  # plain text is not escaped
    assert "Hello Ada &lt;Admin&gt;," in mail["html"]  # html is
    assert 'href="https://app.example/verify?t=a&amp;b=c"' in mail["html"]
    assert mail["sentAt"].endswith("Z")


async def test_the_mailbox_lists_newest_first(accounts: Accounts) -> None:
    to = f"{uuid.uuid4().hex}@Example.com"
    first = (await accounts.send(verify_email(to))).json()["id"]
    second = (await accounts.send(verify_email(to))).json()["id"]
    assert [m["id"] for m in await accounts.mailbox(to.lower())] == [second, first]


async def test_send_needs_a_service_token(fleet: Running, accounts: Accounts) -> None:
    notification = fleet.client("notification")
    body = verify_email(f"{uuid.uuid4().hex}@example.com")
    problem(await notification.post("/internal/notifications/send", json=body), 401, "unauthorized")
    user_token = accounts.headers(uuid.uuid4().hex, role="admin")
    problem(
        await notification.post("/internal/notifications/send", json=body, headers=user_token),
        401,
        "unauthorized",
    )


@pytest.mark.parametrize(
    "change",
    [
        {"template": "no.such-template"},
        {"template": "Not A Name"},
        {"recipient": {"email": "not-an-email", "name": "Ada"}},
        {"recipient": {"email": "a@example.com"}},
        {"channels": []},
        {"channels": ["sms"]},
        {"channels": ["email", "email"]},
        {"category": "gossip"},
        {"essential": True, "category": "marketing"},
        {"data": {"verifyUrl": "https://x", "name": "Ada"}},
        {"channels": ["inApp"]},
        {"unexpected": 1},
    ],
)
async def test_send_refuses_bad_input(accounts: Accounts, change: dict[str, Any]) -> None:
    to = f"{uuid.uuid4().hex}@example.com"
    response = await accounts.send({**verify_email(to), **change})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] in {
        "invalid-input",
        "unknown-template",
        "template-data-missing",
        "unsupported-channel",
    }
    assert await accounts.mailbox(to) == []


async def test_specific_refusals_say_why(accounts: Accounts) -> None:
    to = f"{uuid.uuid4().hex}@example.com"
    missing = problem(
        await accounts.send({**verify_email(to), "data": {"name": "Ada"}}),
        422,
        "template-data-missing",
    )
    assert missing["missing"] == ["verifyUrl", "token"]
    problem(
        await accounts.send({**verify_email(to), "template": "auth.nothing"}),
        422,
        "unknown-template",
    )
    problem(
        await accounts.send({**verify_email(to), "channels": ["email", "inApp"]}),
        422,
        "unsupported-channel",
    )
    account_less = welcome(
        type("A", (), {"user_id": None, "email": to, "name": "Ada"})(), channels=["inApp"]
    )
    problem(await accounts.send(account_less), 422, "recipient-not-a-user")


async def test_opt_outs_are_respected_and_essential_mail_ignores_them(accounts: Accounts) -> None:
    account = await accounts.create()
    await accounts.set_preferences(account, contractUpdates=False)
    before = len(await accounts.mailbox(account.email))

    skipped = await accounts.send(welcome(account, category="contractUpdates"))
    assert skipped.status_code == 202
    assert skipped.json() | {"id": "-"} == {
        "id": "-",
        "skipped": True,
        "reason": "opted-out",
        "channels": [],
        "duplicate": False,
    }
    assert len(await accounts.mailbox(account.email)) == before

    allowed = await accounts.send(welcome(account, category="paymentUpdates"))
    assert allowed.json()["channels"] == ["email"]
    essential = await accounts.send(
        verify_email(account.email, account.user_id, category="contractUpdates")
    )
    assert essential.json()["skipped"] is False
    assert len(await accounts.mailbox(account.email)) == before + 2


async def test_an_opt_out_of_email_leaves_in_app(fleet: Running, accounts: Accounts) -> None:
    account = await accounts.create()
    await accounts.set_preferences(account, productUpdates=False)
    response = await accounts.send(
        welcome(account, category="productUpdates", channels=["email", "inApp"])
    )
    assert response.json()["channels"] == ["inApp"]
    mine = await fleet.client("notification").get("/v1/notifications/me", headers=account.headers)
    assert response.json()["id"] in [n["id"] for n in mine.json()["items"]]


async def test_marketing_needs_an_opt_in(accounts: Accounts) -> None:
    account = await accounts.create()
    default = await accounts.send(welcome(account, category="marketing"))
    assert default.json()["reason"] == "opted-out"
    await accounts.set_preferences(account, marketing=True)
    opted_in = await accounts.send(welcome(account, category="marketing"))
    assert opted_in.json()["channels"] == ["email"]

    # Someone who is not a user (yet): no recorded consent, so no marketing.
    stranger = type(
        "A", (), {"user_id": None, "email": f"{uuid.uuid4().hex}@example.com", "name": "Someone"}
    )()
    no_consent = await accounts.send(welcome(stranger, category="marketing"))
    assert no_consent.json()["reason"] == "no-consent"
    transactional = await accounts.send(welcome(stranger, category="contractUpdates"))
    assert transactional.json()["channels"] == ["email"]


async def test_a_dedupe_key_sends_once(fleet: Running, accounts: Accounts) -> None:
    account = await accounts.create()
    key = uuid.uuid4().hex
    body = welcome(account, channels=["email", "inApp"], dedupeKey=key)
    first = (await accounts.send(body)).json()
    second = (await accounts.send(body)).json()
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    assert second["id"] == first["id"]
    mails = [m for m in await accounts.mailbox(account.email) if m["id"] == first["id"]]
    assert len(mails) == 1
    mine = await fleet.client("notification").get("/v1/notifications/me", headers=account.headers)
    assert [n["id"] for n in mine.json()["items"]].count(first["id"]) == 1

    # The same key from another service is another notification.
    other = (await accounts.send(body, service="client")).json()
    assert other["id"] != first["id"]
    assert other["duplicate"] is False


async def test_the_idempotency_key_header_dedupes_too(accounts: Accounts) -> None:
    """Peers retry POSTs only with an Idempotency-Key (auth does for its mail)."""
    to = f"{uuid.uuid4().hex}@example.com"
    headers = {**accounts.service_headers("auth"), "idempotency-key": uuid.uuid4().hex}
    notification = accounts.fleet.client("notification")
    first = await notification.post(
        "/internal/notifications/send", json=verify_email(to), headers=headers
    )
    again = await notification.post(
        "/internal/notifications/send", json=verify_email(to), headers=headers
    )
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["duplicate"] is True
    assert len(await accounts.mailbox(to)) == 1


async def test_opt_outs_unknowable_when_user_is_down(fleet: Running, accounts: Accounts) -> None:
    """Without the user service the opt-outs cannot be checked: non-essential
    mail with a category answers 503 (the caller retries); essential mail and
    mail without a category still go out."""
    account = await accounts.create()

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("user is down", request=request)

    peers = fleet.runtime("notification").peers
    peers.mount("user", httpx.MockTransport(down))
    try:
        refused = await accounts.send(welcome(account, category="contractUpdates"))
        problem(refused, 503, "peer-unavailable")
        essential = await accounts.send(verify_email(account.email, account.user_id))
        assert essential.status_code == 202
        uncategorised = await accounts.send(welcome(account))
        assert uncategorised.status_code == 202
    finally:
        peers.mount("user", httpx.ASGITransport(app=fleet.apps["user"]))
    # The welcome from user.created, then the essential and the uncategorised one.
    assert len(await accounts.mailbox(account.email)) == 3
