"""Disputes, an admin's resolution (the internal routes the admin service
calls), settlements agreed by both parties, and refunds reported by Stripe's
webhooks — each moving the item's money once."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from mindlinks_dev.harness import Running

if TYPE_CHECKING:
    from conftest import Escrows, Payments

DETAIL = "/internal/payments/escrow/{}"
RESOLVE = "/internal/payments/escrow/{}/resolution"


def idempotency() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def resolve(fleet: Running, escrow_id: str, **body: Any) -> Any:
    document = {"note": "Both sides heard", "resolvedBy": "admin-1", **body}
    return await fleet.client("payment").post(
        RESOLVE.format(escrow_id), json=document, headers=fleet.service_bearer("admin")
    )


async def test_a_dispute_freezes_the_item_until_an_admin_splits_it(
    fleet: Running, payments: Payments, escrows: Escrows
) -> None:
    contract, (escrow_id,) = await escrows.funded((10000,))
    await escrows.submit(escrow_id, contract)
    opened = await escrows.post(
        escrow_id, "disputes", contract.contractor, {"reason": "No answer for weeks"}
    )
    assert opened.status_code == 200, opened.text
    assert opened.json()["state"] == "disputed"
    (disputed,) = await payments.published("payment.disputed", contract.id)
    assert (disputed["openedBySide"], disputed["frozenState"]) == ("contractor", "submitted")
    # The review's timers are gone: nothing releases it on its own.
    timers = fleet.runtime("payment").timers
    assert timers is not None
    assert await timers.pending("escrow.review-due", escrow_id) is None
    assert await timers.pending("escrow.review-reminder", escrow_id) is None

    problem = payments.problem
    frozen = "escrow-disputed"
    problem(
        await escrows.post(escrow_id, "approve", {**contract.client, **idempotency()}), 409, frozen
    )
    problem(
        await escrows.post(escrow_id, "changes-requests", contract.client, {"reason": "r"}),
        409,
        frozen,
    )
    problem(
        await escrows.post(escrow_id, "submissions", contract.contractor, {"note": "n"}),
        409,
        frozen,
    )
    problem(
        await escrows.post(escrow_id, "agreement", contract.client, {"refundMinor": 5}), 409, frozen
    )
    problem(
        await escrows.post(escrow_id, "disputes", contract.client, {"reason": "r"}), 409, frozen
    )

    # Bad resolutions change nothing.
    problem(await resolve(fleet, escrow_id, outcome="split", releasedMinor=0), 422, "invalid-split")
    problem(
        await resolve(fleet, escrow_id, outcome="split", releasedMinor=10000), 422, "invalid-split"
    )
    problem(await resolve(fleet, escrow_id, outcome="split"), 422, "invalid-split")
    problem(await resolve(fleet, escrow_id, outcome="halve"), 422)
    problem(await resolve(fleet, "esc_unknown", outcome="release"), 404)
    for caller in ("contract", "payment", "ledger"):
        refused = await fleet.client("payment").post(
            RESOLVE.format(escrow_id),
            json={"outcome": "release", "note": "n", "resolvedBy": "x"},
            headers=fleet.service_bearer(caller),
        )
        assert refused.status_code == 403, refused.text

    split = await resolve(fleet, escrow_id, outcome="split", releasedMinor=7000)
    assert split.status_code == 200, split.text
    body = split.json()
    assert body["state"] == "split"
    assert [h["action"] for h in body["history"]][-3:] == ["disputed", "settling", "split"]
    assert body["history"][-1]["byUserId"] == "admin-1"
    assert body["history"][-1]["bySide"] == "admin"
    assert body["history"][-1]["reason"] == "Both sides heard"  # the admin's note
    assert (body["history"][-1]["releasedMinor"], body["history"][-1]["refundedMinor"]) == (
        7000,
        3000,
    )
    transfer = await escrows.stripe_object("tr", escrow_id)
    refund = await escrows.stripe_object("re", escrow_id)
    assert transfer is not None
    assert transfer["amount"] == 7000
    assert refund is not None
    assert refund["amount"] == 3000
    (released,) = await payments.published("payment.released", contract.id)
    assert (released["amountMinor"], released["reason"]) == (7000, "dispute")
    (refunded,) = await payments.published("payment.refunded", contract.id)
    assert (refunded["refundedMinor"], refunded["reason"]) == (3000, "dispute")
    (settled,) = await payments.published("payment.item-settled", contract.id)
    assert (settled["outcome"], settled["allSettled"]) == ("split", True)

    # The same resolution again answers the item as it is; another one is refused.
    again = await resolve(fleet, escrow_id, outcome="split", releasedMinor=7000)
    assert again.status_code == 200
    assert again.json()["state"] == "split"
    problem(await resolve(fleet, escrow_id, outcome="refund"), 409, "escrow-already-settled")
    assert len(await payments.published("payment.item-settled", contract.id)) == 1

    detail = await fleet.client("payment").get(
        DETAIL.format(escrow_id), headers=fleet.service_bearer("admin")
    )
    assert detail.status_code == 200
    assert detail.json()["history"] == body["history"]
    assert detail.json()["parties"]["contractorId"] == contract.contractor_id
    missing = await fleet.client("payment").get(
        DETAIL.format("esc_unknown"), headers=fleet.service_bearer("admin")
    )
    problem(missing, 404)


async def test_an_admin_resolves_only_a_disputed_item(fleet: Running, escrows: Escrows) -> None:
    contract, (escrow_id,) = await escrows.funded((10000,))
    escrows.payments.problem(
        await resolve(fleet, escrow_id, outcome="release"), 409, "escrow-state-conflict"
    )
    await escrows.post(escrow_id, "disputes", contract.client, {"reason": "Late"})
    refunded = await resolve(fleet, escrow_id, outcome="refund")
    assert refunded.json()["state"] == "refunded"
    assert await escrows.stripe_object("tr", escrow_id) is None
    assert (await escrows.stripe_object("re", escrow_id))["amount"] == 10000


async def test_a_partial_refund_agreed_by_both_parties(
    payments: Payments, escrows: Escrows
) -> None:
    contract, (escrow_id,) = await escrows.funded((10000,))
    proposed = await escrows.post(
        escrow_id, "agreement", contract.contractor, {"refundMinor": 4000}
    )
    assert proposed.status_code == 200, proposed.text
    problem = payments.problem
    own = await escrows.post(
        escrow_id,
        "agreement/accept",
        {**contract.contractor, **idempotency()},
        {"refundMinor": 4000},
    )
    problem(own, 409, "agreement-own-proposal")
    other = await escrows.post(
        escrow_id, "agreement/accept", {**contract.client, **idempotency()}, {"refundMinor": 5000}
    )
    problem(other, 409, "agreement-proposal-missing")
    detail = await escrows.detail(escrow_id, contract.client)
    assert detail["proposal"]["refundMinor"] == 4000
    assert detail["proposal"]["proposedBySide"] == "contractor"

    key = idempotency()
    accepted = await escrows.post(
        escrow_id, "agreement/accept", {**contract.client, **key}, {"refundMinor": 4000}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "split"
    replay = await escrows.post(
        escrow_id, "agreement/accept", {**contract.client, **key}, {"refundMinor": 4000}
    )
    assert replay.json() == accepted.json()
    assert (await escrows.stripe_object("tr", escrow_id))["amount"] == 6000
    assert (await escrows.stripe_object("re", escrow_id))["amount"] == 4000
    (refunded,) = await payments.published("payment.refunded", contract.id)
    assert (refunded["refundedMinor"], refunded["reason"]) == (4000, "agreed")
    actions = [h["action"] for h in (await escrows.detail(escrow_id, contract.client))["history"]]
    assert actions[-3:] == ["agreement-proposed", "settling", "split"]


async def test_refund_webhooks_are_applied_once(
    fleet: Running, payments: Payments, escrows: Escrows
) -> None:
    contract, (escrow_id,) = await escrows.funded((10000,), payout=False)
    await escrows.post(escrow_id, "agreement", contract.contractor, {"refundMinor": 10000})
    accepted = await escrows.post(
        escrow_id, "agreement/accept", {**contract.client, **idempotency()}, {"refundMinor": 10000}
    )
    assert accepted.json()["state"] == "refunded", accepted.text
    refund_id = (await escrows.detail(escrow_id, contract.client))["refundId"]

    async def refund_record() -> dict[str, Any]:
        mine = await payments.client.get(
            "/v1/payments/transactions", params={"contractId": contract.id}, headers=contract.client
        )
        (record,) = [t for t in mine.json()["items"] if t["kind"] == "refund"]
        found: dict[str, Any] = record
        return found

    assert (await refund_record())["status"] == "processing"
    settled = await payments.client.post(f"/v1/payments/dev/refunds/{refund_id}/succeed")
    assert settled.status_code == 202, settled.text
    assert [e["type"] for e in settled.json()] == ["refund.updated", "charge.refunded"]
    assert (await refund_record())["status"] == "succeeded"
    again = await payments.client.post(f"/v1/payments/dev/refunds/{refund_id}/succeed")
    assert [e["redelivered"] for e in again.json()] == [True, True]
    assert (await refund_record())["status"] == "succeeded"
    payments.problem(
        await payments.client.post(f"/v1/payments/dev/refunds/{refund_id}/fail"),
        409,
        "refund-already-settled",
    )


async def test_a_failed_refund_is_recorded_for_an_operator(
    payments: Payments, escrows: Escrows
) -> None:
    contract, (escrow_id,) = await escrows.funded((10000,), payout=False)
    await escrows.post(escrow_id, "agreement", contract.client, {"refundMinor": 10000})
    await escrows.post(
        escrow_id,
        "agreement/accept",
        {**contract.contractor, **idempotency()},
        {"refundMinor": 10000},
    )
    refund_id = (await escrows.detail(escrow_id, contract.client))["refundId"]
    failed = await payments.client.post(f"/v1/payments/dev/refunds/{refund_id}/fail")
    assert [e["type"] for e in failed.json()] == ["refund.failed"]
    mine = await payments.client.get(
        "/v1/payments/transactions", params={"contractId": contract.id}, headers=contract.contractor
    )
    (record,) = [t for t in mine.json()["items"] if t["kind"] == "refund"]
    assert record["status"] == "failed"


async def test_only_the_admin_service_reads_an_item_and_its_history(
    fleet: Running, escrows: Escrows
) -> None:
    contract, (escrow_id,) = await escrows.funded((10000,), payout=False)
    client = fleet.client("payment")
    read = await client.get(DETAIL.format(escrow_id), headers=fleet.service_bearer("admin"))
    assert read.status_code == 200, read.text
    assert [h["action"] for h in read.json()["history"]] == ["opened", "funded"]
    for caller in ("contract", "ledger", "notification"):
        refused = await client.get(DETAIL.format(escrow_id), headers=fleet.service_bearer(caller))
        assert refused.status_code == 403, refused.text
    assert (await client.get(DETAIL.format(escrow_id))).status_code == 401
    as_user = await client.get(DETAIL.format(escrow_id), headers=contract.client)
    assert as_user.status_code == 401
    bad = await client.get(DETAIL.format("has space"), headers=fleet.service_bearer("admin"))
    escrows.payments.problem(bad, 422)


async def test_the_local_refund_routes_refuse_unknown_refunds(payments: Payments) -> None:
    for outcome in ("succeed", "fail"):
        unknown = await payments.client.post(f"/v1/payments/dev/refunds/re_local_none/{outcome}")
        payments.problem(unknown, 404)
        bad = await payments.client.post(f"/v1/payments/dev/refunds/has space/{outcome}")
        payments.problem(bad, 422)
