"""The whole lifecycle through the public edge only (the story ``make demo``
tells): every later step happens because the events flowed."""

from __future__ import annotations

import httpx

from mindlinks_dev.demo import Story


def test_the_whole_story(edge: httpx.Client) -> None:
    steps: list[str] = []
    facts = Story(edge, steps.append).run()

    contract = edge.get(f"/v1/contracts/{facts['contractId']}", headers=facts["client"].auth)
    assert contract.json()["status"] == "active"
    assert len(facts["schedule"]) == 2
    assert sum(item["amountMinor"] for item in facts["schedule"]) == 500000
    kinds = [entry["kind"] for entry in facts["ledgerEntries"]]
    assert kinds.count("signature") == 2
    assert "contract-activated" in kinds

    # The contractor cannot see the client's secrets nor release money.
    schedule = edge.get(
        f"/v1/payments/contracts/{facts['contractId']}/schedule",
        headers=facts["contractor"].auth,
    )
    assert all(
        "clientSecret" not in item or item["clientSecret"] is None
        for item in schedule.json()["items"]
    )
    refused = edge.post(
        f"/v1/payments/escrow/{facts['schedule'][1]['escrowId']}/release",
        headers={**facts["contractor"].auth, "Idempotency-Key": "contractor-tries-1"},
    )
    assert refused.status_code in (403, 404)
