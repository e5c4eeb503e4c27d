"""Outbound webhooks through the real apps (auth, user, client, notification)
against the moto server and Redis, delivering over real sockets to a receiver
on 127.0.0.1 (loopback is allowed in local/test mode only): the routes and who
may call them, signed per-company deliveries, retries on the fleet clock up to
the endpoint's disabling (and the admins told), rotation, replays."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev.harness import Running
from mindlinks_dev.parties import ClientAccount, Parties
from mindlinks_dev.people import mailbox
from mindlinks_dev.pytest_plugin import FleetClock, StartServices
from mindlinks_dev.stand_ins import Directory
from mindlinks_fleet.events import (
    ContractActivated,
    ContractExpired,
    PaymentConfirmed,
    PaymentReleased,
    ScheduleItem,
    SignatureCompleted,
)
from mindlinks_kit.events.envelope import Delivered, Detail
from mindlinks_kit.timers import Firing, Timers
from mindlinks_notification.webhooks.catalog import TYPE_NAMES
from mindlinks_notification.webhooks.domain import delivery_id as webhook_delivery_id

if TYPE_CHECKING:
    from conftest import Receiver

BASE = "/v1/notifications/webhooks"
TYPES = ["contract.signed", "payment.funded"]


@pytest.fixture(scope="module")
async def fleet(start_services: StartServices) -> AsyncIterator[Running]:
    async with start_services("auth", "user", "client", "notification") as running:
        yield running


@pytest.fixture
def parties(fleet: Running) -> Parties:
    return Parties(fleet, Directory())


def signed(company_id: str) -> SignatureCompleted:
    return SignatureCompleted(
        contract_id=uuid.uuid4().hex,
        title="Data platform build",
        client_company_id=company_id,
        client_user_id=uuid.uuid4().hex,
        contractor_id=uuid.uuid4().hex,
        contractor_user_id=uuid.uuid4().hex,
        signature_ids=["s-1", "s-2"],
        pdf_sha256="a" * 64,
        final_pdf_sha256="b" * 64,
        ledger_entry_ids=[1, 2],
    )


def funded(company_id: str) -> PaymentConfirmed:
    return PaymentConfirmed(
        contract_id=uuid.uuid4().hex,
        item_id="item-1",
        transaction_id=uuid.uuid4().hex,
        escrow_id=uuid.uuid4().hex,
        client_user_id=uuid.uuid4().hex,
        contractor_user_id=uuid.uuid4().hex,
        amount_minor=150_000,
        currency="EUR",
        client_company_id=company_id,
    )


async def subscribe(
    fleet: Running, admin: ClientAccount, url: str, types: list[str] = TYPES
) -> dict[str, Any]:
    response = await fleet.client("notification").post(
        BASE, headers=admin.headers, json={"url": url, "eventTypes": types}
    )
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def log_of(fleet: Running, admin: ClientAccount, endpoint_id: str) -> list[dict[str, Any]]:
    response = await fleet.client("notification").get(
        f"{BASE}/{endpoint_id}/deliveries", headers=admin.headers, params={"limit": 100}
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def timers(fleet: Running) -> Timers:
    found = fleet.runtime("notification").timers
    assert found is not None
    return found


async def test_an_admin_subscribes_and_the_company_s_events_arrive_signed(
    fleet: Running, parties: Parties, receiver: Receiver
) -> None:
    owner = await parties.client()
    admin = await parties.member(owner, "admin")
    made = await subscribe(fleet, admin, receiver.url)
    assert made["secret"].startswith("whsec_")
    assert made["enabled"] is True
    shown = await fleet.client("notification").get(f"{BASE}/{made['id']}", headers=owner.headers)
    assert shown.status_code == 200
    assert "secret" not in shown.json()
    assert made["secret"] not in shown.text

    other = await parties.client()
    await fleet.emit("signature.completed", signed(other.company_id))  # not this company's
    event = signed(owner.company_id)
    event_id = await fleet.emit("signature.completed", event)
    await fleet.emit("payment.released", _released(owner.company_id))  # not subscribed

    (got,) = receiver.received
    assert got.path == "/hooks"
    assert got.headers["mindlinks-event"] == "contract.signed"
    assert got.headers["content-type"] == "application/json"
    assert got.signed_by(made["secret"])
    _stamp, signatures = got.signature()
    assert len(signatures) == 1
    body = got.json()
    assert body == {
        "id": event_id,
        "type": "contract.signed",
        "createdAt": body["createdAt"],
        "companyId": owner.company_id,
        "data": {
            "contractId": event.contract_id,
            "title": "Data platform build",
            "contractorId": event.contractor_id,
            "finalPdfSha256": "b" * 64,
        },
    }
    assert event.client_user_id not in got.body.decode()  # no internal user ids

    (logged,) = await log_of(fleet, admin, made["id"])
    assert logged["id"] == got.headers["mindlinks-delivery"]
    assert logged["status"] == "delivered"
    assert logged["eventId"] == event_id
    (attempt,) = logged["attempts"]
    assert attempt["statusCode"] == 204
    assert attempt["outcome"] == "delivered"
    assert attempt["latencyMs"] >= 0
    assert attempt["error"] is None

    # The same event delivered again by the bus is not sent twice.
    await fleet.emit("signature.completed", event, event_id=event_id)
    assert len(receiver.received) == 1


def _released(company_id: str) -> PaymentReleased:
    return PaymentReleased(
        contract_id=uuid.uuid4().hex,
        item_id="item-1",
        escrow_id=uuid.uuid4().hex,
        transfer_id="tr_1",
        client_user_id=uuid.uuid4().hex,
        contractor_user_id=uuid.uuid4().hex,
        contractor_id=uuid.uuid4().hex,
        amount_minor=150_000,
        currency="EUR",
        all_released=True,
        client_company_id=company_id,
    )


async def test_only_owners_and_admins_manage_and_only_their_company_s_endpoints(
    fleet: Running, parties: Parties, receiver: Receiver
) -> None:
    owner = await parties.client()
    made = await subscribe(fleet, owner, receiver.url)
    path = f"{BASE}/{made['id']}"
    notification = fleet.client("notification")
    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", BASE, None),
        ("POST", BASE, {"url": receiver.url, "eventTypes": TYPES}),
        ("GET", path, None),
        ("PATCH", path, {"enabled": False}),
        ("DELETE", path, None),
        ("POST", f"{path}/rotate-secret", None),
        ("GET", f"{path}/deliveries", None),
        ("POST", f"{path}/deliveries/{uuid.uuid4().hex}/replay", None),
        (
            "POST",
            f"{path}/replay",
            {"since": "2026-01-01T00:00:00Z", "until": "2026-01-02T00:00:00Z"},
        ),
    ]
    for role in ("viewer", "finance", "manager"):
        member = await parties.member(owner, role)
        for method, url, body in routes:
            answer = await notification.request(method, url, headers=member.headers, json=body)
            assert answer.status_code == 403, (role, method, url, answer.text)
            assert answer.json()["code"] == "company-role-not-allowed"
    contractor = fleet.bearer(uuid.uuid4().hex, "contractor")
    assert (await notification.get(BASE, headers=contractor)).status_code == 403
    assert (await notification.get(BASE)).status_code == 401

    stranger = await parties.client()  # another company's owner
    for method, url, body in routes[2:]:
        answer = await notification.request(method, url, headers=stranger.headers, json=body)
        assert answer.status_code == 404, (method, url, answer.text)
    listed = await notification.get(BASE, headers=stranger.headers)
    assert listed.json()["items"] == []
    for method, url, body in routes[2:]:
        unknown = await notification.request(
            method, url.replace(made["id"], uuid.uuid4().hex), headers=owner.headers, json=body
        )
        assert unknown.status_code == 404, (method, url, unknown.text)
        assert unknown.json()["code"] == "webhook-endpoint-not-found"
    malformed = await notification.get(f"{BASE}/not%20an%20id", headers=owner.headers)
    assert malformed.status_code == 422
    assert (await notification.get(path, headers=owner.headers)).status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"url": "http://hooks.example.com/in", "eventTypes": TYPES}, "webhook-url-refused"),
        ({"url": "https://10.1.2.3/in", "eventTypes": TYPES}, "webhook-url-refused"),
        ({"url": "https://192.168.0.10/in", "eventTypes": TYPES}, "webhook-url-refused"),
        ({"url": "https://169.254.169.254/latest", "eventTypes": TYPES}, "webhook-url-refused"),
        ({"url": "https://100.64.0.1/in", "eventTypes": TYPES}, "webhook-url-refused"),
        ({"url": "https://[fd00::1]/in", "eventTypes": TYPES}, "webhook-url-refused"),
        ({"url": "https://[::ffff:10.0.0.1]/in", "eventTypes": TYPES}, "webhook-url-refused"),
        ({"url": "https://224.0.0.1/in", "eventTypes": TYPES}, "webhook-url-refused"),
        (
            {"url": "https://user:pw@hooks.example.com/in", "eventTypes": TYPES},
            "invalid-input",  # the schema's pattern states it: no user info
        ),
        # The schema's pattern states it: http(s) only.
        ({"url": "ftp://hooks.example.com/in", "eventTypes": TYPES}, "invalid-input"),
        ({"url": "https://hooks.example.com/in", "eventTypes": []}, "invalid-input"),
        (
            {"url": "https://hooks.example.com/in", "eventTypes": ["user.created"]},
            "invalid-input",
        ),
        ({"url": "https://hooks.example.com/in"}, "invalid-input"),
        ({"url": "https://hooks.example.com/in", "eventTypes": TYPES, "x": 1}, "invalid-input"),
    ],
)
async def test_bad_endpoints_are_refused_without_any_connection(
    fleet: Running, parties: Parties, body: dict[str, Any], code: str
) -> None:
    owner = await parties.client()
    answer = await fleet.client("notification").post(BASE, headers=owner.headers, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == code


async def test_updates_and_bad_replay_ranges(
    fleet: Running, parties: Parties, receiver: Receiver
) -> None:
    owner = await parties.client()
    made = await subscribe(fleet, owner, receiver.url)
    path = f"{BASE}/{made['id']}"
    notification = fleet.client("notification")
    changed = await notification.patch(
        path, headers=owner.headers, json={"eventTypes": ["payment.released"], "description": "ERP"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["eventTypes"] == ["payment.released"]
    assert changed.json()["description"] == "ERP"
    refused = await notification.patch(
        path, headers=owner.headers, json={"url": "https://10.0.0.1/"}
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "webhook-url-refused"
    backwards = await notification.post(
        f"{path}/replay",
        headers=owner.headers,
        json={"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
    )
    assert backwards.status_code == 422
    assert backwards.json()["code"] == "webhook-replay-range-invalid"
    naive = await notification.post(
        f"{path}/replay", headers=owner.headers, json={"since": "2026-01-01", "until": "x"}
    )
    assert naive.status_code == 422
    assert (await notification.delete(path, headers=owner.headers)).status_code == 204
    assert (await notification.get(path, headers=owner.headers)).status_code == 404


async def test_failures_back_off_for_three_days_then_the_endpoint_is_disabled_and_admins_told(
    fleet: Running, parties: Parties, receiver: Receiver, fleet_clock: FleetClock
) -> None:
    owner = await parties.client()
    await fleet.deliver()  # the owner's user.created: the user service knows them
    made = await subscribe(fleet, owner, receiver.url)
    receiver.status = 500
    await fleet.emit("payment.confirmed", funded(owner.company_id))
    assert len(receiver.received) == 1
    delays = [60, 300, 1500, 7500, 37500, 86400, 86400]
    for n, delay in enumerate(delays, start=2):
        # A margin for the real seconds a loaded machine takes between steps.
        fleet_clock.advance(delay - 30)
        await fleet.deliver()
        assert len(receiver.received) == n - 1, "not before its time"
        fleet_clock.advance(31)
        await fleet.deliver()
        assert len(receiver.received) == n
    fleet_clock.advance("2d")
    await fleet.deliver()
    assert len(receiver.received) == 8, "no attempt after three days"
    (logged,) = await log_of(fleet, owner, made["id"])
    assert logged["status"] == "failed"
    assert logged["nextAttemptAt"] is None
    assert [a["no"] for a in logged["attempts"]] == list(range(1, 9))
    assert {a["statusCode"] for a in logged["attempts"]} == {500}
    assert {a["error"] for a in logged["attempts"]} == {"http-500"}
    assert len({r.headers["mindlinks-delivery"] for r in receiver.received}) == 1

    endpoint = (
        await fleet.client("notification").get(f"{BASE}/{made['id']}", headers=owner.headers)
    ).json()
    assert endpoint["enabled"] is False
    assert endpoint["disabledReason"] == "failing"
    mails = await mailbox(fleet, await _email_of(fleet, owner))
    assert [m["template"] for m in mails].count("webhooks.endpoint-disabled") == 1
    in_app = await fleet.client("notification").get("/v1/notifications/me", headers=owner.headers)
    assert "webhooks.endpoint-disabled" in [n["template"] for n in in_app.json()["items"]]

    # Disabled: no new deliveries, no replay until enabled again.
    await fleet.emit("payment.confirmed", funded(owner.company_id))
    assert len(receiver.received) == 8
    replay = f"{BASE}/{made['id']}/deliveries/{logged['id']}/replay"
    refused = await fleet.client("notification").post(replay, headers=owner.headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "webhook-endpoint-disabled"
    enabled = await fleet.client("notification").patch(
        f"{BASE}/{made['id']}", headers=owner.headers, json={"enabled": True}
    )
    assert enabled.json()["enabled"] is True
    assert enabled.json()["failingSince"] is None
    receiver.status = 200
    again = await fleet.client("notification").post(replay, headers=owner.headers)
    assert again.status_code == 202
    assert again.json()["replayOf"] == logged["id"]
    await fleet.deliver()
    assert receiver.received[-1].body == receiver.received[0].body
    assert receiver.received[-1].headers["mindlinks-delivery"] == again.json()["id"]


async def _email_of(fleet: Running, account: ClientAccount) -> str:
    profile = await fleet.client("user").get("/v1/users/me", headers=account.headers)
    assert profile.status_code == 200, profile.text
    email: str = profile.json()["email"]
    return email


async def test_a_rotation_signs_with_both_secrets_for_a_day(
    fleet: Running, parties: Parties, receiver: Receiver, fleet_clock: FleetClock
) -> None:
    owner = await parties.client()
    made = await subscribe(fleet, owner, receiver.url)
    rotated = await fleet.client("notification").post(
        f"{BASE}/{made['id']}/rotate-secret", headers=owner.headers
    )
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new.startswith("whsec_")
    assert new != made["secret"]
    assert rotated.json()["previousSecretValidUntil"] is not None

    await fleet.emit("signature.completed", signed(owner.company_id))
    during = receiver.received[-1]
    assert len(during.signature()[1]) == 2
    assert during.signed_by(new)
    assert during.signed_by(made["secret"])

    fleet_clock.advance("25h")
    await fleet.emit("signature.completed", signed(owner.company_id))
    after = receiver.received[-1]
    assert len(after.signature()[1]) == 1
    assert after.signed_by(new)
    assert not after.signed_by(made["secret"])


async def test_replay_one_delivery_and_a_time_range(
    fleet: Running, parties: Parties, receiver: Receiver
) -> None:
    owner = await parties.client()
    made = await subscribe(fleet, owner, receiver.url)
    for _ in range(3):
        await fleet.emit("payment.confirmed", funded(owner.company_id))
    assert len(receiver.received) == 3
    originals = await log_of(fleet, owner, made["id"])
    notification = fleet.client("notification")
    one = await notification.post(
        f"{BASE}/{made['id']}/deliveries/{originals[0]['id']}/replay", headers=owner.headers
    )
    assert one.status_code == 202
    assert one.json()["replayOf"] == originals[0]["id"]
    unknown = await notification.post(
        f"{BASE}/{made['id']}/deliveries/{uuid.uuid4().hex}/replay", headers=owner.headers
    )
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "webhook-delivery-not-found"
    await fleet.deliver()
    assert len(receiver.received) == 4
    assert receiver.received[-1].json()["id"] == originals[0]["eventId"]

    created = sorted(d["createdAt"] for d in originals)
    ranged = await notification.post(
        f"{BASE}/{made['id']}/replay",
        headers=owner.headers,
        json={"since": created[0], "until": created[-1]},
    )
    assert ranged.status_code == 202, ranged.text
    assert ranged.json()["replayed"] == 3  # the replay above is not replayed again
    await fleet.deliver()
    assert len(receiver.received) == 7
    only_failed = await notification.post(
        f"{BASE}/{made['id']}/replay",
        headers=owner.headers,
        json={"since": created[0], "until": created[-1], "onlyFailed": True},
    )
    assert only_failed.json()["replayed"] == 0


async def test_each_attempt_is_made_once_even_when_its_firing_arrives_twice(
    fleet: Running, parties: Parties, receiver: Receiver
) -> None:
    owner = await parties.client()
    made = await subscribe(fleet, owner, receiver.url)
    runtime = fleet.runtime("notification")
    event = signed(owner.company_id)
    # Put on the bus and consumed, but the attempt's timer not yet handed over.
    uow = runtime.uow()
    deps = fleet.apps["notification"].state.deps
    detail = Detail(data=event.model_dump(mode="json", by_alias=True))
    await deps.deliveries.on_event(
        Delivered("signature.completed", "mindlinks.signature", detail, event), uow
    )
    await uow.commit()
    delivery_id = webhook_delivery_id(detail.id, made["id"])
    pending = await timers(fleet).pending("webhook.attempt", delivery_id)
    assert pending is not None
    firing = Firing("webhook.attempt", delivery_id, pending["token"], pending["dueAt"])
    fired = await asyncio.gather(
        *(timers(fleet).fire(firing) for _ in range(3)), return_exceptions=True
    )
    assert fired.count(True) == 1, fired
    assert len(receiver.received) == 1
    assert await timers(fleet).fire(firing) is False
    await fleet.deliver()
    assert len(receiver.received) == 1


async def test_every_public_type_has_its_documented_shape(
    fleet: Running, parties: Parties, receiver: Receiver
) -> None:
    owner = await parties.client()
    every = list(TYPE_NAMES)
    await subscribe(fleet, owner, receiver.url, every)
    parties_of = {
        "contract_id": uuid.uuid4().hex,
        "title": "Shape check",
        "client_company_id": owner.company_id,
        "client_user_id": uuid.uuid4().hex,
        "contractor_id": uuid.uuid4().hex,
        "contractor_user_id": uuid.uuid4().hex,
    }
    activated = ContractActivated(
        **parties_of,
        currency="EUR",
        schedule=[
            ScheduleItem(item_id="i-1", title="Design", amount_minor=1000, due_date="2027-01-01")
        ],
        ledger_entry_id=3,
    )
    expired = ContractExpired(
        **parties_of,
        signing_deadline="2027-01-15T00:00:00Z",
        expired_at="2027-01-15T00:00:01Z",
        waiting_for="contractor",
    )
    await fleet.emit("ledger.contract-activated", activated)
    await fleet.emit("contract.expired", expired)
    await fleet.emit("payment.released", _released(owner.company_id))
    by_type = {r.json()["type"]: r.json()["data"] for r in receiver.received}
    assert by_type["contract.activated"] == {
        "contractId": activated.contract_id,
        "title": "Shape check",
        "contractorId": activated.contractor_id,
        "currency": "EUR",
        "schedule": [
            {
                "itemId": "i-1",
                "title": "Design",
                "amount": {"amountMinor": 1000, "currency": "EUR"},
                "dueDate": "2027-01-01",
            }
        ],
    }
    assert by_type["contract.expired"] == {
        "contractId": expired.contract_id,
        "title": "Shape check",
        "contractorId": expired.contractor_id,
        "signingDeadline": "2027-01-15T00:00:00Z",
        "expiredAt": "2027-01-15T00:00:01Z",
        "waitingFor": "contractor",
    }
    assert set(by_type["payment.released"]) == {
        "contractId",
        "itemId",
        "amount",
        "allReleased",
        "reason",
    }
