"""The parties' steps on a funded item through the public routes: submit
(with a file uploaded to S3), ask for changes, submit again, approve; what
the parties read; who may take each step, and bad input."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx

from mindlinks_dev.harness import Running

if TYPE_CHECKING:
    from conftest import Escrows, Payments


def idempotency() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


PDF = b"%PDF-1.7\n" + b"0" * 2048


async def test_submit_ask_for_changes_resubmit_approve(
    fleet: Running, payments: Payments, escrows: Escrows
) -> None:
    contract, (escrow_id,) = await escrows.funded((10000,))
    file_id = await escrows.upload(escrow_id, contract, PDF)
    first = await escrows.submit(
        escrow_id, contract, "First cut", [{"fileId": file_id, "name": "design.pdf"}]
    )
    assert first["state"] == "submitted"

    changes = await escrows.post(
        escrow_id, "changes-requests", contract.client, {"reason": "Use the brand colours"}
    )
    assert changes.status_code == 200, changes.text
    assert changes.json()["state"] == "changes_requested"
    again = await escrows.submit(escrow_id, contract, "With the brand colours")
    assert again["state"] == "submitted"

    approved = await escrows.post(escrow_id, "approve", {**contract.client, **idempotency()})
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "released"
    transfer = await escrows.stripe_object("tr", escrow_id)
    assert transfer is not None
    assert transfer["amount"] == 10000

    detail = await escrows.detail(escrow_id, contract.contractor)
    assert detail["state"] == "released"
    assert detail["settlement"]["outcome"] == "released"
    assert detail["settlement"]["reason"] == "approved"
    assert [s["no"] for s in detail["submissions"]] == [1, 2]
    assert detail["submissions"][0]["answer"] == "Use the brand colours"
    (stored,) = detail["submissions"][0]["files"]
    assert (stored["name"], stored["contentType"], stored["size"]) == (
        "design.pdf",
        "application/pdf",
        len(PDF),
    )
    async with httpx.AsyncClient() as http:
        downloaded = await http.get(stored["downloadUrl"])
    assert downloaded.status_code == 200
    assert downloaded.content == PDF
    assert [h["action"] for h in detail["history"]] == [
        "opened",
        "funded",
        "submitted",
        "changes-requested",
        "submitted",
        "settling",
        "released",
    ]
    assert detail["history"][3]["reason"] == "Use the brand colours"
    assert detail["history"][-1]["byUserId"] == contract.client_user_id
    assert detail["history"][-1]["releasedMinor"] == 10000

    submitted = await payments.published("payment.work-submitted", contract.id)
    assert [(e["submissionNo"], e["fileCount"]) for e in submitted] == [(1, 1), (2, 0)]
    (asked,) = await payments.published("payment.changes-requested", contract.id)
    assert asked["reason"] == "Use the brand colours"
    (released,) = await payments.published("payment.released", contract.id)
    assert (released["reason"], released["amountMinor"]) == ("approved", 10000)
    (settled,) = await payments.published("payment.item-settled", contract.id)
    assert settled["outcome"] == "released"
    assert settled["allSettled"] is True
    assert settled["byUserId"] == contract.client_user_id


async def test_a_file_not_uploaded_for_the_item_is_refused(escrows: Escrows) -> None:
    contract, (escrow_id,) = await escrows.funded((10000,), payout=False)
    _, (other_id,) = await escrows.funded((10000,), payout=False)
    response = await escrows.post(
        escrow_id,
        "submissions",
        contract.contractor,
        {"note": "x", "files": [{"fileId": uuid.uuid4().hex, "name": "a.pdf"}]},
    )
    escrows.payments.problem(response, 422, "submission-file-missing")
    assert other_id != escrow_id


async def test_each_step_refuses_the_wrong_state(escrows: Escrows) -> None:
    contract, (escrow_id,) = await escrows.funded((10000,), payout=False)
    problem = escrows.payments.problem
    ask = {"reason": "why"}
    problem(
        await escrows.post(escrow_id, "changes-requests", contract.client, ask),
        409,
        "escrow-state-conflict",
    )
    unpaid = await escrows.payments.activate((5000,))
    unpaid_id = (await escrows.payments.schedule(unpaid, unpaid.client))["items"][0]["escrowId"]
    submit = await escrows.post(unpaid_id, "submissions", unpaid.contractor, {"note": "x"})
    problem(submit, 409, "escrow-not-funded")
    problem(await escrows.post(unpaid_id, "disputes", unpaid.client, ask), 409, "escrow-not-funded")


async def test_who_may_take_each_step(fleet: Running, payments: Payments, escrows: Escrows) -> None:
    contract, (escrow_id,) = await escrows.funded((10000,))
    problem = payments.problem
    stranger_contract = payments.contract()
    stranger_client = stranger_contract.client  # another company's owner
    stranger_contractor = stranger_contract.contractor
    reader = payments.member(contract, "viewer")  # a member whose role reads, never moves money
    admin = payments.headers(uuid.uuid4().hex, "admin")
    upload: Any = {"contentType": "application/pdf", "size": 10}
    submit: Any = {"note": "x"}
    reason: Any = {"reason": "r"}
    refund: Any = {"refundMinor": 100}

    # The client's steps: not the contractor, not another company, not a reader.
    for step, body in (("changes-requests", reason), ("approve", None)):
        keyed = idempotency() if step == "approve" else {}
        problem(await escrows.post(escrow_id, step, {**contract.contractor, **keyed}, body), 403)
        problem(await escrows.post(escrow_id, step, {**stranger_client, **keyed}, body), 404)
        problem(await escrows.post(escrow_id, step, {**reader, **keyed}, body), 403)
        problem(await escrows.post(escrow_id, step, {**admin, **keyed}, body), 403)
        problem(await escrows.post("esc_unknown", step, {**contract.client, **keyed}, body), 404)
    # The contractor's steps: not the client, not another contractor.
    for step, body in (("uploads", upload), ("submissions", submit)):
        problem(await escrows.post(escrow_id, step, contract.client, body), 403)
        problem(await escrows.post(escrow_id, step, stranger_contractor, body), 404)
        problem(await escrows.post("esc_unknown", step, contract.contractor, body), 404)
    # Either party's steps: not a stranger, not a reader, not an admin.
    for step, body in (("disputes", reason), ("agreement", refund)):
        problem(await escrows.post(escrow_id, step, stranger_client, body), 404)
        problem(await escrows.post(escrow_id, step, stranger_contractor, body), 404)
        problem(await escrows.post(escrow_id, step, reader, body), 403, "payments-move-required")
        problem(await escrows.post(escrow_id, step, admin, body), 403, "parties-only")
        problem(await escrows.post("esc_unknown", step, contract.contractor, body), 404)
    accept = await escrows.post(
        escrow_id, "agreement/accept", {**stranger_client, **idempotency()}, refund
    )
    problem(accept, 404)
    # Reading: the parties, members who read, admins; nobody else.
    for headers in (contract.client, contract.contractor, reader, admin):
        assert (await escrows.detail(escrow_id, headers))["id"] == escrow_id
    for headers in (stranger_client, stranger_contractor):
        response = await payments.client.get(f"/v1/payments/escrow/{escrow_id}", headers=headers)
        problem(response, 404)
    assert (await payments.client.get(f"/v1/payments/escrow/{escrow_id}")).status_code == 401
    # Nothing moved.
    assert (await escrows.detail(escrow_id, contract.client))["state"] == "funded"
    assert await payments.published("payment.disputed", contract.id) == []


async def test_bad_input_is_refused_with_problems(payments: Payments, escrows: Escrows) -> None:
    contract, (escrow_id,) = await escrows.funded((10000,), payout=False)
    problem = payments.problem
    body: Any
    for body in (
        {"contentType": "text/html", "size": 10},
        {"contentType": "application/pdf", "size": 0},
        {"contentType": "application/pdf", "size": 26 * 1024 * 1024},
        {"contentType": "application/pdf"},
    ):
        problem(await escrows.post(escrow_id, "uploads", contract.contractor, body), 422)
    for body in (
        {"note": ""},
        {"note": "x" * 5001},
        {"note": "x", "files": [{"fileId": "bad id", "name": "a.pdf"}]},
        {"note": "x", "files": [{"fileId": "abc", "name": "../etc/passwd"}]},
        {"note": "x", "files": [{"fileId": f"f{i}", "name": "a.pdf"} for i in range(11)]},
        {"note": "x", "extra": 1},
    ):
        problem(await escrows.post(escrow_id, "submissions", contract.contractor, body), 422)
    for step in ("changes-requests", "disputes"):
        for body in ({}, {"reason": ""}, {"reason": "x" * 1001}, {"reason": "a\u202eb"}):
            problem(await escrows.post(escrow_id, step, contract.client, body), 422)
    for body in ({}, {"refundMinor": 0}, {"refundMinor": -5}, {"refundMinor": "ten"}):
        problem(await escrows.post(escrow_id, "agreement", contract.client, body), 422)
        accept = await escrows.post(
            escrow_id, "agreement/accept", {**contract.client, **idempotency()}, body
        )
        problem(accept, 422)
    problem(
        await escrows.post(escrow_id, "agreement", contract.client, {"refundMinor": 10001}),
        422,
        "invalid-split",
    )
    required = "idempotency-key-required"
    problem(await escrows.post(escrow_id, "approve", contract.client), 422, required)
    accept = await escrows.post(escrow_id, "agreement/accept", contract.client, {"refundMinor": 1})
    problem(accept, 422, required)
    bad = await payments.client.get("/v1/payments/escrow/has space", headers=contract.client)
    problem(bad, 422)
    assert (await escrows.detail(escrow_id, contract.client))["state"] == "funded"
