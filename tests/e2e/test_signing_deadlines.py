"""Issue 16's signing deadline, through the public edge only, with a clock the
test moves (``fleet_clock``: every process of the fleet reads it; the
contract service's timers fire from its local sweep):

send → the day-3 reminder mailed to the client member who sent it → the
client signs → the next reminder (day 5) goes to the contractor → the client
reminds at once (not twice a day) → extends the deadline, the contractor is
told → the deadline passes → ``expired``, both parties mailed, a late
signature refused."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx

from mindlinks_dev.demo import Person, Story, contract_draft, expect
from mindlinks_dev.pytest_plugin import FleetClock

DAY = 86_400.0


def mails(edge: httpx.Client, person: Person, template: str) -> list[dict[str, Any]]:
    found = expect(edge.get("/v1/notifications/dev/mailbox", params={"to": person.email}), 200)
    return [m for m in found["items"] if m["template"] == template]


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_contract_unsigned_by_its_deadline_expires(
    edge: httpx.Client, fleet_clock: FleetClock
) -> None:
    steps: list[str] = []
    story = Story(edge, steps.append)
    run = uuid.uuid4().hex[:8]
    client = Person(f"owner-{run}@deadline.example", "Dana Deadline", "client")
    contractor = Person(f"dev-{run}@contractor.example", "Sam Slowpoke", "contractor")
    story.sign_up(client)
    story.register_company(client)
    contractor_id = story.onboard_contractor(client, contractor)

    def contract() -> dict[str, Any]:
        found: dict[str, Any] = expect(edge.get(f"/v1/contracts/{cid}", headers=client.auth), 200)
        return found

    def sign(person: Person) -> httpx.Response:
        return edge.post(
            f"/v1/signatures/contracts/{cid}/sign",
            headers={**person.auth, "Idempotency-Key": uuid.uuid4().hex},
            json={
                "consent": True,
                "signatureName": person.name,
                "stepUpToken": story.step_up(person, cid),
            },
        )

    def mailed(person: Person, template: str, count: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = story.until(
            lambda: (m := mails(edge, person, template)) and len(m) >= count and m,
            f"{count} {template} mail(s) to {person.role}",
        )
        return found

    draft = contract_draft(contractor_id, f"Deadline {run}")
    created = expect(edge.post("/v1/contracts", headers=client.auth, json=draft), 201)
    cid = created["id"]
    assert (created["signingDays"], created["reminderAfterDays"], created["reminderEveryDays"]) == (
        14,
        3,
        2,
    )
    sent = expect(edge.post(f"/v1/contracts/{cid}/send", headers=client.auth), 200)
    sent_at, deadline = when(sent["sentAt"]), when(sent["signingDeadline"])
    assert deadline - sent_at == timedelta(days=14)
    assert when(sent["nextReminderAt"]) - sent_at == timedelta(days=3)

    # Day 3: the client member who sent it is reminded (their company signs first).
    fleet_clock.advance(3 * DAY + 60)
    [first] = mailed(client, "contract.signing-reminder", 1)
    assert first["subject"] == f"Please sign “Deadline {run}” by {first['data']['signingDeadline']}"
    assert mails(edge, contractor, "contract.signing-reminder") == []
    reminded = story.until(lambda: (c := contract())["remindersSent"] == 1 and c, "reminder 1")
    assert when(reminded["nextReminderAt"]) - sent_at == timedelta(days=5)

    # The client signs: the next reminder (day 5) goes to the contractor.
    expect(sign(client), 201)
    fleet_clock.advance(2 * DAY)
    mailed(contractor, "contract.signing-reminder", 1)
    assert len(mails(edge, client, "contract.signing-reminder")) == 1

    # The client reminds at once, but not twice within a day.
    fleet_clock.advance(1 * DAY + 3600)
    now = expect(edge.post(f"/v1/contracts/{cid}/reminders", headers=client.auth), 202)
    assert (now["reminderNo"], now["toSide"], now["manual"]) == (3, "contractor", True)
    again = edge.post(f"/v1/contracts/{cid}/reminders", headers=client.auth)
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "reminder-too-soon"
    asked = mailed(contractor, "contract.signing-reminder", 2)
    assert any("Your client asks you to sign" in m["text"] for m in asked), asked

    # The client extends the deadline by three days; the contractor is told.
    later = deadline + timedelta(days=3)
    extended = expect(
        edge.post(
            f"/v1/contracts/{cid}/signing-deadline",
            headers=client.auth,
            json={"signingDeadline": later.isoformat()},
        ),
        200,
    )
    assert when(extended["signingDeadline"]) == later
    [told] = mailed(contractor, "contract.signing-deadline-extended", 1)
    assert told["subject"].startswith(f"More time to sign “Deadline {run}”")

    # Past the old deadline it still waits; past the new one it expires.
    fleet_clock.advance(9 * DAY)  # day 15 (the old deadline was day 14)
    # The sweep got there: the cadence's day-7 reminder, delivered late, went
    # out once (no burst of the missed ones), and nothing expired.
    waited = story.until(lambda: (c := contract())["remindersSent"] == 4 and c, "reminder 4")
    assert waited["status"] == "client_signed"
    assert waited["nextReminderAt"] is None  # day 17 would be the deadline itself
    fleet_clock.advance(3 * DAY)  # day 18: past the new deadline (day 17)
    expired = story.until(lambda: (c := contract())["status"] == "expired" and c, "the expiry")
    assert expired["expiredAt"] == extended["signingDeadline"]
    assert expired["history"][-1]["to"] == "expired"
    for person in (client, contractor):
        [mail] = mailed(person, "contract.expired", 1)
        assert mail["subject"] == f"“Deadline {run}” expired unsigned"

    late = sign(contractor)
    assert late.status_code == 409, late.text
    assert late.json()["code"] == "contract-expired"
    assert contract()["status"] == "expired"
