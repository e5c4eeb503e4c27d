"""Outbound webhooks (issue 16) through the public edge only: a company's
admin subscribes a receiver on 127.0.0.1 (local mode allows loopback), the
demo lifecycle runs, and the receiver gets the company's ``contract.signed``,
``contract.activated``, ``payment.funded`` and ``payment.released``, each
signed with the endpoint's secret as docs/webhooks.md says; the delivery log
shows them delivered. A viewer of the company may not manage webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from mindlinks_dev.demo import Person, Story, contract_draft, expect
from mindlinks_dev.members import add_member

WEBHOOKS = "/v1/notifications/webhooks"
LIFECYCLE = ["contract.signed", "contract.activated", "payment.funded", "payment.released"]


class Received(list[tuple[dict[str, str], bytes]]):
    """What the receiver got: each request's headers (lower-case) and body."""


@pytest.fixture
def receiver() -> Iterator[tuple[str, Received]]:
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/mindlinks", received
    finally:
        server.shutdown()
        server.server_close()


def verified(headers: dict[str, str], body: bytes, secret: str) -> bool:
    fields = [part.split("=", 1) for part in headers["mindlinks-signature"].split(",")]
    (stamp,) = [v for k, v in fields if k == "t"]
    if abs(time.time() - int(stamp)) > 300:
        return False
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, v) for k, v in fields if k == "v1")


def test_a_company_receives_its_lifecycle_signed(
    edge: httpx.Client, receiver: tuple[str, Received]
) -> None:
    url, received = receiver
    story = Story(edge, lambda message: None)
    run = uuid.uuid4().hex[:8]
    client = Person(f"hooks-{run}@acme.example", "Hannah Hooks", "client")
    contractor = Person(f"hooks-dev-{run}@contractor.example", "Dev Hooks", "contractor")
    story.sign_up(client)
    company = story.register_company(client)

    admin = add_member(story, client.auth, "admin", name="Ada Admin")
    viewer = add_member(story, client.auth, "viewer", name="Vic Viewer")
    body = {"url": url, "eventTypes": LIFECYCLE}
    assert edge.post(WEBHOOKS, headers=viewer.auth, json=body).status_code == 403

    refused = edge.post(
        WEBHOOKS,
        headers=admin.auth,
        json={"url": "https://169.254.169.254/latest", "eventTypes": LIFECYCLE},
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "webhook-url-refused"
    endpoint = expect(edge.post(WEBHOOKS, headers=admin.auth, json=body), 201)
    secret = endpoint["secret"]

    contractor_id = story.onboard_contractor(client, contractor)
    contract_id, items = story.activate(
        client, contractor, contract_draft(contractor_id), f"hooks-{run}"
    )
    first = items[0]
    story.fund(contract_id, client, first)
    expect(
        edge.post(
            f"/v1/payments/escrow/{first['escrowId']}/release",
            headers={**client.auth, "Idempotency-Key": f"hooks-{run}-release"},
        ),
        200,
    )

    def all_arrived() -> list[dict[str, Any]] | None:
        events = [json.loads(body) for _, body in received]
        return events if {e["type"] for e in events} >= set(LIFECYCLE) else None

    events = story.until(all_arrived, "the lifecycle's webhooks")
    assert len(events) == len(LIFECYCLE), [e["type"] for e in events]
    for headers, body in received:
        assert verified(headers, body, secret), headers
        event = json.loads(body)
        assert headers["mindlinks-event"] == event["type"]
        assert event["companyId"] == company["id"]
        assert event["data"]["contractId"] == contract_id
    by_type = {e["type"]: e for e in events}
    assert by_type["payment.funded"]["data"]["amount"] == {"amountMinor": 150000, "currency": "EUR"}
    assert by_type["payment.released"]["data"]["itemId"] == first["itemId"]
    assert len(by_type["contract.activated"]["data"]["schedule"]) == 2

    log = expect(edge.get(f"{WEBHOOKS}/{endpoint['id']}/deliveries", headers=admin.auth), 200)
    assert sorted(d["eventType"] for d in log["items"]) == sorted(LIFECYCLE)
    assert {d["status"] for d in log["items"]} == {"delivered"}
    contractor_view = edge.get(WEBHOOKS, headers=contractor.auth)
    assert contractor_view.status_code == 403
