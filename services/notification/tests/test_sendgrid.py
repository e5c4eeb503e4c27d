"""The real SendGrid adapter against SendGrid's HTTP boundary (respx)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
import respx

from mindlinks_dev.bootstrap import Bootstrapped
from mindlinks_dev.harness import run_services
from mindlinks_notification.app import create
from mindlinks_notification.providers import Mail, MailDeliveryFailed
from mindlinks_notification.providers.sendgrid import SendGridMailer
from mindlinks_notification.settings import Settings

URL = "https://api.sendgrid.com/v3/mail/send"
MAIL = Mail(
    id="n1",
    to_email="ada@example.com",
    to_name="Ada",
    subject="Hi",
    text="Hello",
    html="<p>Hello</p>",
    template="user.welcome",
    data={"token": "secret-token"},
)


@pytest.fixture
def sendgrid(outside: respx.MockRouter) -> respx.MockRouter:
    """SendGrid's HTTP boundary (the pytest plugin's ``outside``)."""
    return outside


def mailer(client: httpx.AsyncClient, fail_max: int = 5) -> SendGridMailer:
    return SendGridMailer(
        client=client,
        api_key="SG.test-key",
        sender_email="no-reply@ml.test",
        sender_name="Mind-Links",
        fail_max=fail_max,
    )


async def test_a_mail_is_posted_as_sendgrid_documents(
    http: httpx.AsyncClient, sendgrid: respx.MockRouter
) -> None:
    route = sendgrid.post(URL).mock(
        return_value=httpx.Response(202, headers={"X-Message-Id": "abc"})
    )
    await mailer(http).send(MAIL)
    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer SG.test-key"
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.content)
    assert body == {
        "personalizations": [{"to": [{"email": "ada@example.com", "name": "Ada"}]}],
        "from": {"email": "no-reply@ml.test", "name": "Mind-Links"},
        "subject": "Hi",
        "content": [
            {"type": "text/plain", "value": "Hello"},
            {"type": "text/html", "value": "<p>Hello</p>"},
        ],
        "categories": ["user.welcome"],
        "custom_args": {"notificationId": "n1", "template": "user.welcome"},
    }
    assert "secret-token" not in request.content.decode()  # data stays with us


async def test_essential_mail_is_never_link_tracked(
    http: httpx.AsyncClient, sendgrid: respx.MockRouter
) -> None:
    route = sendgrid.post(URL).mock(return_value=httpx.Response(202))
    await mailer(http).send(Mail(**{**MAIL.__dict__, "essential": True}))
    tracking = json.loads(route.calls.last.request.content)["tracking_settings"]
    assert tracking["click_tracking"] == {"enable": False, "enable_text": False}


async def test_a_refusal_raises_with_sendgrids_reason(
    http: httpx.AsyncClient, sendgrid: respx.MockRouter
) -> None:
    sendgrid.post(URL).mock(
        return_value=httpx.Response(
            400,
            json={
                "errors": [
                    {
                        "message": "The from address does not match a verified Sender Identity.",
                        "field": "from",
                        "help": None,
                    }
                ]
            },
        )
    )
    with pytest.raises(MailDeliveryFailed, match="verified Sender Identity") as raised:
        await mailer(http).send(MAIL)
    assert raised.value.status == 502
    assert raised.value.extensions["providerStatus"] == 400

    sendgrid.post(URL).mock(
        return_value=httpx.Response(
            401,
            json={
                "errors": [
                    {"message": "The provided authorization grant is invalid, expired, or revoked"}
                ]
            },
        )
    )
    with pytest.raises(MailDeliveryFailed, match=r"\(401\).*authorization grant"):
        await mailer(http).send(MAIL)


async def test_outages_open_the_circuit(
    http: httpx.AsyncClient, sendgrid: respx.MockRouter
) -> None:
    route = sendgrid.post(URL).mock(return_value=httpx.Response(503))
    fragile = mailer(http, fail_max=2)
    for _ in range(2):
        with pytest.raises(MailDeliveryFailed, match="unavailable"):
            await fragile.send(MAIL)
    with pytest.raises(MailDeliveryFailed, match="circuit open"):
        await fragile.send(MAIL)
    assert route.call_count == 2

    timeout = mailer(http)
    sendgrid.post(URL).mock(side_effect=httpx.ConnectTimeout("slow"))
    with pytest.raises(MailDeliveryFailed, match="ConnectTimeout"):
        await timeout.send(MAIL)


async def test_the_service_sends_through_sendgrid_when_configured(
    fleet_resources: Bootstrapped, mailbox_dir: Path, sendgrid: respx.MockRouter
) -> None:
    """The whole send path with the real adapter; a refused mail can be retried
    with the same dedupe key, and nothing lands in the local mailbox."""
    from mindlinks_auth.app import create as create_auth

    to = f"{uuid.uuid4().hex}@example.com"
    body = {
        "template": "auth.reset-password",
        "essential": True,
        "recipient": {"email": to, "name": "Ada"},
        "dedupeKey": uuid.uuid4().hex,
        "data": {"resetUrl": "https://x.example/r", "token": "t", "name": "Ada"},
    }
    route = sendgrid.post(URL).mock(return_value=httpx.Response(500))
    async with run_services(
        {
            "auth": create_auth,
            "notification": lambda: create(Settings(sendgrid_api_key="SG.configured")),
        }
    ) as fleet:
        token, _ = fleet.deps("auth").keys.service_token("auth", 300)
        headers = {"authorization": f"Bearer {token}"}
        notification = fleet.client("notification")

        failed = await notification.post("/internal/notifications/send", json=body, headers=headers)
        assert failed.status_code == 502
        assert failed.headers["content-type"] == "application/problem+json"
        assert failed.json()["code"] == "mail-delivery-failed"

        route.mock(return_value=httpx.Response(202))
        sent = await notification.post("/internal/notifications/send", json=body, headers=headers)
        assert sent.status_code == 202, sent.text
        assert sent.json()["duplicate"] is False
        request = route.calls.last.request
        assert request.headers["authorization"] == "Bearer SG.configured"
        mail = json.loads(request.content)
        assert mail["personalizations"][0]["to"][0]["email"] == to
        assert mail["subject"] == "Reset your Mind-Links password"
        assert route.call_count == 2
    assert not mailed(mailbox_dir, to)


def mailed(mailbox_dir: Path, to: str) -> bool:
    return any(to in path.read_text() for path in mailbox_dir.glob("*.json"))
