"""One escrowed item through the admin API (issue 15): its state, history
and journal entries, and an admin's resolution of its dispute, audited.

Payment's two routes of issue 15 — ``ESCROW_DETAIL`` and ``RESOLVE`` — are
answered by ``mindlinks_dev.escrow_stand_in`` (mounted from their
declarations) in front of the real payment app, which serves everything
else; the ledger is the real one, fed the events payment publishes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev.escrow_stand_in import FINAL, EscrowStandIn, in_front_of_payment
from mindlinks_fleet.events import EscrowDisputed
from mindlinks_fleet.internal.payment import OperatorEscrowDetail

if TYPE_CHECKING:
    from conftest import Desk


@pytest.fixture
def escrow(desk: Desk) -> Iterator[EscrowStandIn]:
    """The stand-in in front of the real payment app, for the admin only (per
    test: ``desk.stopped("payment")`` mounts the real app again when done)."""
    with in_front_of_payment(desk.fleet, EscrowStandIn()) as stand_in:
        yield stand_in


async def journal_step(desk: Desk, item: OperatorEscrowDetail) -> None:
    """The dispute as payment publishes it; the real ledger records it under the item."""
    parties = item.parties
    disputed = EscrowDisputed(
        contract_id=item.contract_id,
        item_id=item.item_id,
        escrow_id=item.id,
        client_company_id=parties.client_company_id,
        client_user_id=parties.client_user_id,
        contractor_id=parties.contractor_id,
        contractor_user_id=parties.contractor_user_id,
        amount_minor=item.amount_minor,
        currency=item.currency,
        opened_by_user_id=parties.client_user_id,
        opened_by_side="client",
        reason="Not what we agreed",
        frozen_state="funded",
    )
    await desk.fleet.emit("payment.disputed", disputed)


async def test_an_item_with_its_history_and_journal(desk: Desk, escrow: EscrowStandIn) -> None:
    item = escrow.add()
    await journal_step(desk, item)
    response = await desk.get(f"/escrow/{item.id}")
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["escrow"] == item.model_dump(mode="json", by_alias=True)
    assert view["escrow"]["state"] == "disputed"
    assert [s["action"] for s in view["escrow"]["history"]] == ["opened", "funded", "disputed"]
    [entry] = view["journal"]
    assert (entry["kind"], entry["subject"]) == ("payment-disputed", item.id)
    assert entry["data"]["contractId"] == item.contract_id
    assert view["partial"] == []
    [seen] = await desk.audit(target=f"escrow:{item.id}")
    assert (seen["action"], seen["phase"], seen["actorUserId"]) == (
        "escrow.view",
        "viewed",
        desk.user_id,
    )


async def test_the_view_degrades_without_the_ledger_and_needs_payment(
    desk: Desk, escrow: EscrowStandIn
) -> None:
    item = escrow.add()
    with desk.stopped("ledger"):
        response = await desk.get(f"/escrow/{item.id}")
    assert response.status_code == 200, response.text
    assert response.json()["journal"] is None
    assert response.json()["partial"] == [
        {"service": "ledger", "detail": "ledger did not answer (connection failed)"}
    ]
    with desk.stopped("payment"):
        desk.problem(await desk.get(f"/escrow/{item.id}"), 503, "peer-unavailable")


async def test_unknown_and_malformed_ids(desk: Desk, escrow: EscrowStandIn) -> None:
    unknown = f"esc-{uuid.uuid4().hex[:12]}"
    body = desk.problem(await desk.get(f"/escrow/{unknown}"), 404, "escrow-not-found")
    assert body["service"] == "payment"
    resolved = await desk.post(
        f"/escrow/{unknown}/resolution", {"outcome": "refund", "note": "client was right"}
    )
    desk.problem(resolved, 404, "escrow-not-found")
    assert await desk.audit(target=f"escrow:{unknown}") == []  # nothing seen, nothing changed
    desk.problem(await desk.get("/escrow/a%20b"), 422, "invalid-input")
    bad_id = await desk.post("/escrow/a%20b/resolution", {"outcome": "refund", "note": "x y z"})
    desk.problem(bad_id, 422, "invalid-input")


async def test_a_split_resolution_is_audited_and_moves_the_item(
    desk: Desk, escrow: EscrowStandIn
) -> None:
    item = escrow.add()
    response = await desk.post(
        f"/escrow/{item.id}/resolution",
        {"outcome": "split", "releasedMinor": 100000, "note": "Two of three pages delivered"},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["state"] == "split"
    settling, final = answer["history"][-2:]
    assert (settling["bySide"], settling["byUserId"]) == ("admin", desk.user_id)
    assert (final["releasedMinor"], final["refundedMinor"]) == (100000, 50000)
    assert escrow.resolutions[-1] == (
        item.id,
        {
            "outcome": "split",
            "releasedMinor": 100000,
            "note": "Two of three pages delivered",
            "resolvedBy": desk.user_id,
        },
    )
    done, asked = await desk.audit(target=f"escrow:{item.id}")
    assert (asked["action"], asked["phase"]) == ("escrow.resolve", "requested")
    assert asked["reason"] == "Two of three pages delivered"
    assert asked["before"] == item.model_dump(mode="json", by_alias=True)  # disputed
    assert (done["phase"], done["after"]) == ("succeeded", answer)
    assert done["actionId"] == asked["actionId"]


@pytest.mark.parametrize("outcome", ["release", "refund"])
async def test_release_and_refund_resolutions(
    desk: Desk, escrow: EscrowStandIn, outcome: str
) -> None:
    item = escrow.add()
    response = await desk.post(
        f"/escrow/{item.id}/resolution", {"outcome": outcome, "note": "The evidence is clear"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["state"] == FINAL[outcome]
    assert escrow.resolutions[-1][1]["releasedMinor"] is None


async def test_a_second_resolution_is_refused_and_recorded_as_failed(
    desk: Desk, escrow: EscrowStandIn
) -> None:
    item = escrow.add()
    first = await desk.post(
        f"/escrow/{item.id}/resolution", {"outcome": "release", "note": "Work accepted"}
    )
    assert first.status_code == 200, first.text
    again = await desk.post(
        f"/escrow/{item.id}/resolution", {"outcome": "refund", "note": "Changed my mind"}
    )
    body = desk.problem(again, 409, "escrow-state-conflict")
    assert body["service"] == "payment"
    failed, asked, *_ = await desk.audit(target=f"escrow:{item.id}")
    assert (asked["phase"], asked["reason"]) == ("requested", "Changed my mind")
    assert asked["before"]["state"] == "released"
    assert (failed["phase"], failed["error"]["code"]) == ("failed", "escrow-state-conflict")


@pytest.mark.parametrize(
    "body",
    [
        {"outcome": "refund"},
        {"outcome": "refund", "note": ""},
        {"outcome": "keep", "note": "no such outcome"},
        {"outcome": "split", "note": "no amount given"},
        {"outcome": "split", "releasedMinor": 0, "note": "nothing released"},
        {"outcome": "split", "releasedMinor": -5, "note": "negative"},
        {"outcome": "split", "releasedMinor": "lots", "note": "not a number"},
        {"outcome": "split", "releasedMinor": 150000, "note": "the whole amount"},
        {"outcome": "split", "releasedMinor": 999999, "note": "more than the amount"},
        {"outcome": "release", "releasedMinor": 5000, "note": "an amount with a release"},
    ],
)
async def test_bad_resolutions_are_refused_before_anything_is_recorded(
    desk: Desk, escrow: EscrowStandIn, body: dict[str, Any]
) -> None:
    item = escrow.add()
    asked = len(escrow.resolutions)
    response = await desk.post(f"/escrow/{item.id}/resolution", body)
    desk.problem(response, 422)
    assert response.json()["code"] in ("invalid-input", "invalid-split")
    assert len(escrow.resolutions) == asked  # payment was not asked
    assert await desk.audit(target=f"escrow:{item.id}") == []


async def test_only_admins(desk: Desk, escrow: EscrowStandIn) -> None:
    item = escrow.add()
    admin = desk.fleet.client("admin")
    for role in ("client", "contractor"):
        headers = desk.fleet.bearer(uuid.uuid4().hex, role)
        view = await admin.get(f"/v1/admin/escrow/{item.id}", headers=headers)
        desk.problem(view, 403, "forbidden")
        resolved = await admin.post(
            f"/v1/admin/escrow/{item.id}/resolution",
            json={"outcome": "refund", "note": "let me have it"},
            headers=headers,
        )
        desk.problem(resolved, 403, "forbidden")
    assert escrow.resolutions == []
    assert escrow.items[item.id].state == "disputed"
    assert await desk.audit(target=f"escrow:{item.id}") == []
