"""Contracts and payments through the admin API, against the real services:
a contract signed by both parties and activated (signatures, ledger history,
payment schedule), voiding, transactions, escrow and flags."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev.parties import ClientAccount, ContractorAccount
from mindlinks_fleet.step_up import CONTRACT_SIGN, purpose

if TYPE_CHECKING:
    from conftest import Desk


@pytest.fixture(scope="module")
async def active(desk: Desk) -> tuple[ClientAccount, ContractorAccount, dict[str, Any]]:
    """A contract both parties signed, activated by the ledger, scheduled by payment."""
    client, contractor = await desk.parties.pair()
    contract = await desk.parties.draft(client, contractor)
    fleet = desk.fleet
    sent = await fleet.client("contract").post(
        f"/v1/contracts/{contract['id']}/send", headers=client.headers
    )
    assert sent.status_code == 200, sent.text
    for account, name in ((client, "Ada Owner"), (contractor, contractor.name)):
        signed = await fleet.client("signature").post(
            f"/v1/signatures/contracts/{contract['id']}/sign",
            json={
                "consent": True,
                "signatureName": name,
                "stepUpToken": fleet.step_up_token(
                    account.user_id, purpose(CONTRACT_SIGN, contract["id"])
                ),
            },
            headers=account.headers,
        )
        assert signed.status_code in (200, 201), signed.text
    await fleet.deliver()
    return client, contractor, contract


async def test_contracts_across_tenants(desk: Desk, active: Any) -> None:
    client, contractor, contract = active
    by_company = await desk.get("/contracts", companyId=client.company_id)
    assert by_company.status_code == 200, by_company.text
    assert [c["id"] for c in by_company.json()["items"]] == [contract["id"]]
    assert by_company.json()["items"][0]["status"] == "active"
    by_contractor = await desk.get("/contracts", contractorId=contractor.contractor_id)
    assert [c["id"] for c in by_contractor.json()["items"]] == [contract["id"]]
    active_ones = await desk.get("/contracts", status="active", limit=100)
    assert contract["id"] in {c["id"] for c in active_ones.json()["items"]}
    desk.problem(await desk.get("/contracts", status="signed"), 422, "invalid-input")
    desk.problem(await desk.get("/contracts", companyId="a b"), 422, "invalid-input")


async def test_one_contract_with_signatures_and_history(desk: Desk, active: Any) -> None:
    _, _, contract = active
    response = await desk.get(f"/contracts/{contract['id']}")
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["contract"]["status"] == "active"
    assert len(view["signatures"]) == 2
    assert {s["signerRole"] for s in view["signatures"]} == {"client", "contractor"}
    assert len(view["history"]) >= 3  # two signatures, the activation
    assert view["partial"] == []
    [seen] = await desk.audit(target=f"contract:{contract['id']}")
    assert (seen["action"], seen["phase"]) == ("contract.view", "viewed")
    desk.problem(await desk.get(f"/contracts/{uuid.uuid4().hex}"), 404, "contract-not-found")


async def test_the_contract_view_degrades_and_its_only_source_is_503(
    desk: Desk, active: Any
) -> None:
    _, _, contract = active
    with desk.stopped("ledger"):
        response = await desk.get(f"/contracts/{contract['id']}")
    assert response.status_code == 200, response.text
    assert response.json()["history"] is None
    assert response.json()["partial"] == [
        {"service": "ledger", "detail": "ledger did not answer (connection failed)"}
    ]
    with desk.stopped("contract"):
        down = await desk.get(f"/contracts/{contract['id']}")
    desk.problem(down, 503, "peer-unavailable")


async def test_voiding_is_audited_and_refused_once_money_may_move(desk: Desk, active: Any) -> None:
    client, contractor, signed = active
    draft = await desk.parties.draft(client, contractor)
    voided = await desk.post(f"/contracts/{draft['id']}/void", {"reason": "duplicate draft"})
    assert voided.status_code == 200, voided.text
    assert voided.json()["status"] == "voided"
    done, asked = await desk.audit(target=f"contract:{draft['id']}")
    assert (asked["action"], asked["before"]["status"]) == ("contract.void", "draft")
    assert done["after"]["status"] == "voided"

    refused = await desk.post(f"/contracts/{signed['id']}/void", {"reason": "client asked"})
    desk.problem(refused, 409, "invalid-transition")
    failed, asked, *_ = await desk.audit(target=f"contract:{signed['id']}")
    assert (asked["phase"], failed["phase"]) == ("requested", "failed")
    assert failed["error"]["code"] == "invalid-transition"
    desk.problem(await desk.post(f"/contracts/{draft['id']}/void", {}), 422, "invalid-input")
    desk.problem(
        await desk.post(f"/contracts/{uuid.uuid4().hex}/void", {"reason": "no such thing"}),
        404,
        "contract-not-found",
    )


async def test_transactions_escrow_and_flags(desk: Desk, active: Any) -> None:
    _, _, contract = active
    listed = await desk.get("/payments/transactions", contractId=contract["id"])
    assert listed.status_code == 200, listed.text
    [charge] = listed.json()["items"]
    assert charge["status"] == "requires_payment"
    stuck = await desk.get("/payments/transactions", stuck="true", olderThanMinutes=60)
    assert stuck.status_code == 200, stuck.text
    assert charge["id"] not in {t["id"] for t in stuck.json()["items"]}  # created just now

    escrow = await desk.get("/payments/escrow", state="pending_funding", limit=100)
    assert escrow.status_code == 200, escrow.text
    assert contract["id"] in {e["contractId"] for e in escrow.json()["items"]}
    desk.problem(await desk.get("/payments/escrow", state="held"), 422, "invalid-input")
    for bad in ({"status": "paid"}, {"olderThanMinutes": 0}, {"stuck": "maybe"}):
        response = await desk.get("/payments/transactions", **bad)
        desk.problem(response, 422, "invalid-input")

    flagged = await desk.post(
        f"/payments/transactions/{charge['id']}/flag", {"reason": "card holder disputes"}
    )
    assert flagged.status_code == 200, flagged.text
    assert flagged.json()["flag"]["flaggedBy"] == desk.user_id
    again = await desk.post(f"/payments/transactions/{charge['id']}/flag", {"reason": "again!"})
    assert again.json()["flag"]["reason"] == "card holder disputes"
    records = await desk.audit(target=f"transaction:{charge['id']}")
    assert [r["phase"] for r in records] == ["succeeded", "requested"] * 2
    assert records[-1]["reason"] == "card holder disputes"
    # ``before``: the transaction as payment held it — unflagged the first
    # time, with the first flag the second.
    assert records[-1]["before"] == charge
    assert records[1]["before"] == {**charge, "flag": flagged.json()["flag"]}
    assert records[0]["after"]["flag"] == flagged.json()["flag"]

    unknown_id = uuid.uuid4().hex
    unknown = await desk.post(f"/payments/transactions/{unknown_id}/flag", {"reason": "x?!"})
    body = desk.problem(unknown, 404, "transaction-not-found")
    assert body["service"] == "payment"
    assert await desk.audit(target=f"transaction:{unknown_id}") == []  # nothing to flag


async def test_a_flag_is_attempted_and_recorded_when_payment_is_down(
    desk: Desk, active: Any
) -> None:
    _, _, contract = active
    [charge] = (await desk.get("/payments/transactions", contractId=contract["id"])).json()["items"]
    with desk.stopped("payment"):
        response = await desk.post(
            f"/payments/transactions/{charge['id']}/flag", {"reason": "payment is down"}
        )
    desk.problem(response, 503, "peer-unavailable")
    failed, asked, *_ = await desk.audit(target=f"transaction:{charge['id']}")
    assert (asked["phase"], asked["reason"]) == ("requested", "payment is down")
    [noted] = asked["before"]["partial"]
    assert noted["service"] == "payment"
    assert noted["detail"].startswith("payment did not answer")
    assert (failed["phase"], failed["error"]["status"]) == ("failed", 503)
