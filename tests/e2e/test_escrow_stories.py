"""The escrow lifecycle through the public edge only, on a fleet of real
processes: (1) submit, ask for changes, submit again, approve; (2) submit,
silence, and the automatic release when the fleet clock passes the review
period. Each starts from the demo's story (a contract active, its first
item released) and uses its second item."""

from __future__ import annotations

from typing import Any

import httpx

from mindlinks_dev.demo import Story, expect, until
from mindlinks_dev.pytest_plugin import FleetClock


def funded_second_item(edge: httpx.Client) -> tuple[dict[str, Any], str]:
    """The demo's story, then its second item paid into escrow."""
    facts = Story(edge, lambda _: None).run()
    client = facts["client"]
    second = facts["schedule"][1]
    expect(edge.post(f"/v1/payments/dev/intents/{second['paymentIntentId']}/succeed"), 202)

    def state() -> str:
        found = edge.get(f"/v1/payments/escrow/{second['escrowId']}", headers=client.auth)
        value: str = expect(found, 200)["state"]
        return value

    until(lambda: state() == "funded", "the second item to be funded")
    return facts, second["escrowId"]


def step(edge: httpx.Client, escrow_id: str, name: str, headers: Any, body: Any = None) -> Any:
    return edge.post(f"/v1/payments/escrow/{escrow_id}/{name}", headers=headers, json=body)


def test_submit_ask_for_changes_resubmit_approve(edge: httpx.Client) -> None:
    facts, escrow_id = funded_second_item(edge)
    client, contractor = facts["client"].auth, facts["contractor"].auth
    submitted = expect(step(edge, escrow_id, "submissions", contractor, {"note": "v1"}), 201)
    assert submitted["state"] == "submitted"
    asked = step(edge, escrow_id, "changes-requests", client, {"reason": "Add the tests"})
    assert expect(asked, 200)["state"] == "changes_requested"
    again = expect(step(edge, escrow_id, "submissions", contractor, {"note": "v2"}), 201)
    assert again["state"] == "submitted"
    refused = step(edge, escrow_id, "approve", {**contractor, "Idempotency-Key": "e2e-c"})
    assert refused.status_code == 403
    approved = step(edge, escrow_id, "approve", {**client, "Idempotency-Key": f"e2e-{escrow_id}"})
    assert expect(approved, 200)["state"] == "released"
    detail = expect(edge.get(f"/v1/payments/escrow/{escrow_id}", headers=contractor), 200)
    assert [h["action"] for h in detail["history"]] == [
        "opened",
        "funded",
        "submitted",
        "changes-requested",
        "submitted",
        "settling",
        "released",
    ]


def test_submit_silence_auto_release(edge: httpx.Client, fleet_clock: FleetClock) -> None:
    facts, escrow_id = funded_second_item(edge)
    client, contractor = facts["client"].auth, facts["contractor"].auth
    expect(step(edge, escrow_id, "submissions", contractor, {"note": "Done"}), 201)

    def detail() -> dict[str, Any]:
        found: dict[str, Any] = expect(
            edge.get(f"/v1/payments/escrow/{escrow_id}", headers=client), 200
        )
        return found

    def reminded(times: int) -> bool:
        return [h["action"] for h in detail()["history"]].count("reminded") == times

    fleet_clock.advance("7d")
    fleet_clock.advance(60)
    until(lambda: reminded(1), "the reminder at 7 days left", seconds=90)
    fleet_clock.advance("6d")
    until(lambda: reminded(2), "the reminder at 1 day left", seconds=90)
    assert detail()["state"] == "submitted"
    fleet_clock.advance("1d")
    released = until(
        lambda: (found := detail())["state"] == "released" and found,
        "the automatic release",
        seconds=90,
    )
    assert released["settlement"]["reason"] == "auto-release"
    assert [h["action"] for h in released["history"]][-2:] == ["settling", "released"]
