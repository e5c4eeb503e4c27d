"""Issue 15's money stories, through the public edge only, with a clock the
test moves (``fleet_clock``: every process of the fleet reads it):

1. submit, ask for changes, submit again, approve (``make demo``'s story);
2. submit, silence, reminders, the automatic release at the review period's end;
3. a dispute, then an admin's split (the admin service, audited);
4. a termination with notice: at its end the unpaid item is cancelled and the
   funded one refunded.

Every story ends with the item's history (payment), its steps in the ledger
and, where one party must hear of it, the mail."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mindlinks_dev.demo import Person, Story, contract_draft, expect
from mindlinks_dev.outside import Admin, create_admin
from mindlinks_dev.pytest_plugin import FleetClock

DAY = 86_400.0


@dataclass
class Parties:
    story: Story
    client: Person
    contractor: Person
    contractor_id: str
    facts: dict[str, Any]
    """What story 1 (the demo's) left: its contract, schedule and ledger entries."""

    def contract(self, milestones: int, **terms: Any) -> tuple[str, list[dict[str, Any]]]:
        """Another active contract between the two, ``milestones`` items of 1,000.00 EUR."""
        draft = contract_draft(self.contractor_id, f"Phase {uuid.uuid4().hex[:6]}")
        draft["terms"]["milestones"] = [
            {"title": f"Milestone {n + 1}", "amountMinor": 100_000, "dueDate": "2027-03-01"}
            for n in range(milestones)
        ]
        return self.story.activate(self.client, self.contractor, draft | terms, uuid.uuid4().hex)

    def until_state(self, escrow_id: str, state: str, what: str) -> dict[str, Any]:
        item: dict[str, Any] = self.story.until(
            lambda: (
                (found := self.story.escrow(escrow_id, self.client))["state"] == state and found
            ),
            what,
        )
        return item


@pytest.fixture(scope="module")
def parties(edge: httpx.Client) -> Parties:
    steps: list[str] = []
    story = Story(edge, steps.append)
    facts = story.run(review=True)
    return Parties(story, facts["client"], facts["contractor"], facts["contractorId"], facts)


@pytest.fixture(scope="module")
def admin(edge: httpx.Client, fleet_run_dir: Path) -> Admin:
    return create_admin(edge, fleet_run_dir, name="Margaret Mediator")


def actions(item: dict[str, Any]) -> list[str]:
    return [step["action"] for step in item["history"]]


def ledger_kinds(edge: httpx.Client, person: Person, escrow_id: str) -> list[str]:
    found = expect(edge.get(f"/v1/ledger/escrow/{escrow_id}/history", headers=person.auth), 200)
    return [entry["kind"] for entry in found["items"]]


def mails(edge: httpx.Client, person: Person, template: str) -> list[dict[str, Any]]:
    found = expect(edge.get("/v1/notifications/dev/mailbox", params={"to": person.email}), 200)
    return [m for m in found["items"] if m["template"] == template]


def eventually(story: Story, probe: Callable[[], Any], what: str) -> Any:
    return story.until(probe, what)


def test_1_submit_changes_resubmit_approve(edge: httpx.Client, parties: Parties) -> None:
    """The demo's story: the first item went through review and was released."""
    first = parties.facts["schedule"][0]
    item = parties.story.escrow(first["escrowId"], parties.contractor)
    assert item["state"] == "released", item
    assert item["settlement"]["reason"] == "approved"
    answers = [s["answer"] for s in item["submissions"]]
    assert answers == ["Please add the mobile layouts.", None], answers
    assert item["submissions"][0]["files"][0]["name"] == "delivery.txt"
    assert actions(item) == [
        "opened",
        "funded",
        "submitted",
        "changes-requested",
        "submitted",
        "settling",
        "released",
    ], actions(item)
    kinds = eventually(
        parties.story,
        lambda: (
            (k := ledger_kinds(edge, parties.client, first["escrowId"]))
            and "payment-invoice-issued" in k
            and k
        ),
        "the item's steps in the ledger",
    )
    for kind in ("payment-work-submitted", "payment-changes-requested", "payment-released"):
        assert kind in kinds, kinds
    assert eventually(
        parties.story,
        lambda: mails(edge, parties.contractor, "escrow.changes-requested"),
        "the changes-requested mail to the contractor",
    )
    # The contractor cannot approve its own work.
    refused = edge.post(
        f"/v1/payments/escrow/{first['escrowId']}/approve",
        headers=parties.contractor.auth | {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert refused.status_code == 403, refused.text
    invoices = expect(edge.get("/v1/payments/invoices", headers=parties.contractor.auth), 200)
    assert [i["escrowId"] for i in invoices["items"]] == [first["escrowId"]]


def test_2_silence_releases_on_its_own(
    edge: httpx.Client, parties: Parties, fleet_clock: FleetClock
) -> None:
    contract_id, items = parties.contract(1, reviewDays=14)
    item = items[0]
    parties.story.fund(contract_id, parties.client, item)
    parties.story.submit(parties.contractor, item["escrowId"], "Done, please review.", None)
    submitted = parties.story.escrow(item["escrowId"], parties.client)
    assert submitted["state"] == "submitted"
    assert submitted["reviewDueAt"], submitted

    fleet_clock.advance(7 * DAY + 60)
    eventually(
        parties.story,
        lambda: mails(edge, parties.client, "escrow.review-reminder"),
        "the 7-days-left reminder",
    )
    assert parties.story.escrow(item["escrowId"], parties.client)["state"] == "submitted"

    # One step at a time: a reminder still due when the review has ended is not sent.
    fleet_clock.advance(6 * DAY)
    eventually(
        parties.story,
        lambda: len(mails(edge, parties.client, "escrow.review-reminder")) == 2,
        "the 1-day-left reminder",
    )
    fleet_clock.advance(1 * DAY)
    released = parties.until_state(item["escrowId"], "released", "the automatic release")
    assert released["settlement"]["reason"] == "auto-release"
    assert released["settlement"]["byUserId"] is None
    assert actions(released).count("released") == 1
    reminded = [step for step in released["history"] if step["action"] == "reminded"]
    assert len(reminded) == 2, released["history"]  # 7 days left, then 1 day left
    transfers = expect(
        edge.get(
            "/v1/payments/transactions",
            params={"contractId": contract_id},
            headers=parties.client.auth,
        ),
        200,
    )
    assert [t["kind"] for t in transfers["items"]].count("transfer") == 1
    parties.story.until(
        lambda: (
            expect(edge.get(f"/v1/contracts/{contract_id}", headers=parties.client.auth), 200)[
                "status"
            ]
            == "completed"
        ),
        "the contract to complete once its only item is settled",
    )


def test_3_a_dispute_split_by_an_admin(edge: httpx.Client, parties: Parties, admin: Admin) -> None:
    contract_id, items = parties.contract(1)
    item = items[0]
    escrow_id = item["escrowId"]
    parties.story.fund(contract_id, parties.client, item)
    parties.story.submit(parties.contractor, escrow_id, "Delivered.", None)
    disputed = expect(
        edge.post(
            f"/v1/payments/escrow/{escrow_id}/disputes",
            headers=parties.client.auth,
            json={"reason": "Half of the scope is missing."},
        ),
        200,
    )
    assert disputed["state"] == "disputed"
    # Frozen: the client cannot approve it now.
    frozen = edge.post(
        f"/v1/payments/escrow/{escrow_id}/approve",
        headers=parties.client.auth | {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert frozen.status_code == 409, frozen.text
    eventually(
        parties.story,
        lambda: mails(edge, parties.contractor, "escrow.disputed"),
        "the dispute mail to the contractor",
    )

    # The parties cannot resolve their own dispute; an admin can.
    refused = edge.post(
        f"/v1/admin/escrow/{escrow_id}/resolution",
        headers=parties.client.auth,
        json={"outcome": "split", "releasedMinor": 60_000, "note": "Split 60/40."},
    )
    assert refused.status_code == 403, refused.text
    resolved = expect(
        edge.post(
            f"/v1/admin/escrow/{escrow_id}/resolution",
            headers=admin.headers,
            json={"outcome": "split", "releasedMinor": 60_000, "note": "Split 60/40 as agreed."},
        ),
        200,
    )
    assert resolved["state"] == "split", resolved
    item_now = parties.story.escrow(escrow_id, parties.contractor)
    settlement = item_now["settlement"]
    assert (settlement["releasedMinor"], settlement["refundedMinor"]) == (60_000, 40_000)
    assert (settlement["reason"], settlement["bySide"]) == ("dispute", "admin")
    # A second resolution, or a late approval, moves nothing more.
    again = edge.post(
        f"/v1/admin/escrow/{escrow_id}/resolution",
        headers=admin.headers,
        json={"outcome": "release", "note": "Changed my mind."},
    )
    assert again.status_code == 409, again.text

    view = expect(edge.get(f"/v1/admin/escrow/{escrow_id}", headers=admin.headers), 200)
    assert "disputed" in actions(view["escrow"])
    assert view["escrow"]["state"] == "split"
    assert any(e["kind"] == "payment-disputed" for e in view["journal"]), view["journal"]
    trail = expect(
        edge.get(
            "/v1/admin/audit", params={"target": f"escrow:{escrow_id}"}, headers=admin.headers
        ),
        200,
    )
    assert any(r["actorUserId"] == admin.id for r in trail["items"]), trail
    kinds = eventually(
        parties.story,
        lambda: (
            (k := ledger_kinds(edge, parties.client, escrow_id))
            and "payment-item-settled" in k
            and k
        ),
        "the dispute's steps in the ledger",
    )
    assert {"payment-disputed", "payment-released", "payment-refunded"} <= set(kinds), kinds


def test_4_termination_with_notice_refunds_and_cancels(
    edge: httpx.Client, parties: Parties, fleet_clock: FleetClock
) -> None:
    contract_id, items = parties.contract(2, noticeDays=10)
    funded, unpaid = items
    parties.story.fund(contract_id, parties.client, funded)
    scheduled = expect(
        edge.post(
            f"/v1/contracts/{contract_id}/termination",
            headers=parties.contractor.auth,
            json={"reason": "Moving on to another engagement."},
        ),
        200,
    )
    assert scheduled["status"] == "active", scheduled
    assert scheduled["terminationEndsAt"], scheduled
    eventually(
        parties.story,
        lambda: mails(edge, parties.client, "contract.termination-scheduled"),
        "the notice mail to the client",
    )

    fleet_clock.advance(10 * DAY + 60)
    parties.story.until(
        lambda: (
            expect(edge.get(f"/v1/contracts/{contract_id}", headers=parties.client.auth), 200)[
                "status"
            ]
            == "terminated"
        ),
        "the contract to end when the notice runs out",
    )
    refunded = parties.until_state(funded["escrowId"], "refunded", "the funded item's refund")
    assert refunded["settlement"]["reason"] == "terminated"
    assert refunded["settlement"]["refundedMinor"] == funded["amountMinor"]
    cancelled = parties.until_state(unpaid["escrowId"], "cancelled", "the unpaid item's cancel")
    assert cancelled["settlement"] is None or cancelled["settlement"]["releasedMinor"] == 0
    # The refund is with the card holder once the bank says so (a signed webhook).
    expect(
        edge.post(f"/v1/payments/dev/refunds/{refunded['refundId']}/succeed"),
        202,
    )
    history = expect(
        edge.get(f"/v1/ledger/contracts/{contract_id}/history", headers=parties.client.auth), 200
    )
    ended = [e for e in history["items"] if e["kind"] == "contract-terminated"]
    assert ended, history
    assert ended[0]["data"]["reason"] == "Moving on to another engagement.", ended
    eventually(
        parties.story,
        lambda: "payment-refunded" in ledger_kinds(edge, parties.client, funded["escrowId"]),
        "the refund in the ledger",
    )
    eventually(
        parties.story,
        lambda: mails(edge, parties.client, "escrow.refunded"),
        "the refund mail to the client",
    )
