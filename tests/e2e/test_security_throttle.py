"""Sign-in throttling through the real edge: auth sees each client's own
address (the one the edge appends to X-Forwarded-For, never one the client
wrote), so an attacker failing from one address is slowed down while the
owner signs in from another."""

from __future__ import annotations

import time
import uuid

import httpx

PASSWORD = "Correct-Horse-9-Battery"
WRONG = "Wrong-Guess-123"
FREE_FAILURES = 5
"""auth's ``LOGIN_PAIR_FREE_FAILURES`` default."""


def _verified_account(edge: httpx.Client) -> str:
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    registered = edge.post(
        "/v1/auth/register",
        json={"email": email, "password": PASSWORD, "name": "Olivia Owner", "role": "client"},
    )
    assert registered.status_code == 202, registered.text
    deadline = time.monotonic() + 10
    token = None
    while token is None and time.monotonic() < deadline:
        mailbox = edge.get("/v1/notifications/dev/mailbox", params={"to": email})
        mails = [m for m in mailbox.json()["items"] if m["template"] == "auth.verify-email"]
        token = mails[0]["data"]["token"] if mails else None
        time.sleep(0.2)
    assert token, "the verification mail did not arrive"
    assert edge.post("/v1/auth/verify-email", json={"token": token}).status_code == 200
    return email


def test_an_attacker_on_one_address_is_slowed_and_the_owner_still_signs_in(
    edge: httpx.Client,
) -> None:
    email = _verified_account(edge)
    # Another machine: the edge sees 127.0.0.2 as the peer (loopback is a /8).
    elsewhere = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=edge.base_url, transport=elsewhere, timeout=10) as attacker:
        statuses = []
        for i in range(FREE_FAILURES + 1):
            # A forged X-Forwarded-For per attempt must not buy fresh allowances.
            guess = attacker.post(
                "/v1/auth/login",
                json={"email": email, "password": WRONG},
                headers={"x-forwarded-for": f"198.51.100.{i + 1}"},
            )
            statuses.append(guess.status_code)
        assert statuses == [401] * FREE_FAILURES + [429], statuses
        assert guess.headers["content-type"] == "application/problem+json"
        assert guess.json()["code"] == "too-many-attempts"
        assert 1 <= int(guess.headers["retry-after"]) <= 2
        # Even the right password waits on that address...
        assert (
            attacker.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
        ).status_code == 429

    # ...while the owner, on their own address, signs in at once.
    login = edge.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    assert login.json()["tokenType"] == "Bearer"
