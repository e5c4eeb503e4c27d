"""Issue 16's amendments, through the public edge only: an active contract
with two milestones, the first funded; an amendment that would change the
funded one is refused; one that keeps it, drops the unfunded one and adds a
launch page is signed by both (each after a mailed one-time code) and is in
force: the contract's terms are version 2, payment cancelled the dropped item
and opened the new one, the ledger journaled the version, the sealed
amendment verifies by upload, and both parties were told."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx

from mindlinks_dev.demo import Person, Story, contract_draft, expect

PDF = {"content-type": "application/pdf"}
MILESTONES = [
    {"title": "Design", "amountMinor": 100_000, "dueDate": "2027-03-01"},
    {"title": "Build", "amountMinor": 200_000, "dueDate": "2027-04-01"},
]


def test_an_amendment_signed_by_both_changes_the_schedule_but_no_funded_item(
    edge: httpx.Client,
) -> None:
    story = Story(edge, lambda _: None)
    run = uuid.uuid4().hex[:8]
    client = Person(f"owner-{run}@amend.example", "Ada Amender", "client")
    contractor = Person(f"dev-{run}@amend.example", "Dev Amended", "contractor")
    story.sign_up(client)
    story.register_company(client)
    contractor_id = story.onboard_contractor(client, contractor)
    draft = contract_draft(contractor_id, "Shop rebuild")
    draft["terms"] = {"kind": "milestones", "milestones": MILESTONES}
    contract_id, items = story.activate(client, contractor, draft, run)
    design, build = items
    story.fund(contract_id, client, design)

    amendments = f"/v1/contracts/{contract_id}/amendments"
    cheaper_design = {
        "reason": "Less design work.",
        "terms": {"kind": "milestones", "milestones": [{**MILESTONES[0], "amountMinor": 80_000}]},
    }
    refused = edge.post(amendments, headers=client.auth, json=cheaper_design)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "amendment-changes-funded-item"

    launch = {"title": "Launch page", "amountMinor": 50_000, "dueDate": "2027-04-15"}
    proposal = {
        "reason": "The build moves in-house; a launch page instead.",
        "endDate": "2027-04-30",
        "terms": {"kind": "milestones", "milestones": [MILESTONES[0], launch]},
    }
    amendment = expect(
        edge.post(amendments, headers={**client.auth, "Idempotency-Key": run}, json=proposal), 201
    )
    assert amendment["removedItemIds"] == [build["itemId"]]
    (added,) = amendment["addedItemIds"]
    assert amendment["proposed"]["itemIds"] == [design["itemId"], added]
    story.mail(contractor.email, "contract.amendment-proposed")

    assert story.sign(client, contract_id, amendment=1)["contractStatus"] == "client_signed"
    story.mail(contractor.email, "contract.amendment-client-signed")
    signed = story.sign(contractor, contract_id, amendment=1)
    assert signed["contractStatus"] == "fully_signed"

    now = expect(edge.get(f"/v1/contracts/{contract_id}", headers=contractor.auth), 200)
    assert (now["termsVersion"], now["endDate"], now["totalMinor"]) == (2, "2027-04-30", 150_000)

    def follows() -> list[dict[str, Any]]:
        schedule = story.schedule(contract_id, client)
        states = {i["itemId"]: i["escrowState"] for i in schedule}
        new = next((i for i in schedule if i["itemId"] == added), None)
        done = states.get(build["itemId"]) == "cancelled" and new and new.get("paymentIntentId")
        return schedule if done else []

    schedule = story.until(follows, "payment to follow the amendment")
    states = {i["itemId"]: i["escrowState"] for i in schedule}
    assert states[design["itemId"]] == "funded", "the funded item is untouched"
    assert states[added] == "pending_funding"

    history = expect(
        edge.get(f"/v1/ledger/contracts/{contract_id}/history", headers=client.auth), 200
    )
    (entry,) = [e for e in history["items"] if e["kind"] == "contract-amended"]
    assert entry["data"]["termsVersion"] == 2
    assert entry["data"]["finalPdfSha256"] == signed["finalPdfSha256"]

    link = expect(
        edge.get(f"{amendments}/1/pdf", params={"kind": "final"}, headers=contractor.auth), 200
    )
    final = httpx.get(link["url"], timeout=10).content
    assert hashlib.sha256(final).hexdigest() == link["sha256"] == signed["finalPdfSha256"]
    verdict = expect(edge.post("/v1/signatures/verify", content=final, headers=PDF), 200)
    assert (verdict["ours"], verdict["intact"], verdict["amendment"]) == (True, True, 1)
    assert [s["signatureName"] for s in verdict["signatures"]] == ["Ada Amender", "Dev Amended"]

    for person in (client, contractor):
        story.mail(person.email, "contract.amended")
    versions = expect(edge.get(amendments, headers=client.auth), 200)["items"]
    assert [(v["number"], v["status"]) for v in versions] == [(1, "fully_signed")]
    assert versions[0]["previous"]["terms"]["milestones"] == MILESTONES

    # A stranger learns nothing.
    stranger = Person(f"other-{run}@amend.example", "Olga Other", "client")
    story.sign_up(stranger)
    story.register_company(stranger)
    assert edge.get(amendments, headers=stranger.auth).status_code == 404
