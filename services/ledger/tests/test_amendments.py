"""``contract.amended`` (issue 16, ADR 0017): one ``contract-amended`` entry
per amendment under the contract — the whole schedule, what was added and
removed, the PDFs' hashes, the signature entries — once, however often the
event is delivered; the contract's parties read it with the contract's
history and can verify the amendment's sealed PDF against it."""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_fleet.events import ContractAmended, ScheduleItem
from mindlinks_kit.events.envelope import Detail
from mindlinks_ledger.domain import ITEM_KINDS, STEP_KINDS

if TYPE_CHECKING:
    from conftest import Contract, Ledger


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def amended(contract: Contract, number: int = 1) -> ContractAmended:
    """Amendment ``number`` of ``contract``: the first item kept, a new one
    added, the old second one removed."""
    body = contract.body
    cid = contract.id
    return ContractAmended(
        contract_id=cid,
        title=body["title"],
        client_company_id=body["clientCompanyId"],
        client_user_id=contract.client_user_id,
        contractor_id=body["contractorId"],
        contractor_user_id=contract.contractor_user_id,
        number=number,
        terms_version=number + 1,
        currency="EUR",
        total_minor=250000,
        previous_total_minor=200000,
        review_days=14,
        end_date="2030-06-30",
        schedule=[
            ScheduleItem(
                item_id=f"{cid}-0", title="Design", amount_minor=150000, due_date="2030-01-31"
            ),
            ScheduleItem(
                item_id=f"{cid}-a{number}-1",
                title="Build, extended",
                amount_minor=100000,
                due_date="2030-05-31",
            ),
        ],
        added_item_ids=[f"{cid}-a{number}-1"],
        removed_item_ids=[f"{cid}-1"],
        pdf_sha256=sha(f"amendment {number} {cid}"),
        final_pdf_sha256=sha(f"amendment {number} final {cid}"),
        signature_ids=["sig-a1", "sig-a2"],
        ledger_entry_ids=[41, 42],
        amended_at="2030-03-01T10:00:00.000000Z",
    )


async def publish(ledger: Ledger, payload: ContractAmended, event_id: str | None = None) -> str:
    """``contract.amended`` on the bus, as the contract service publishes it."""
    data = payload.model_dump(mode="json", by_alias=True)
    detail = Detail(data=data) if event_id is None else Detail(id=event_id, data=data)
    await ledger.put_on_bus(detail, "contract.amended")
    return detail.id


def amendments(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if e["kind"] == "contract-amended"]


@pytest.fixture(scope="module")
async def contract(ledger: Ledger) -> Contract:
    terms = {
        "kind": "milestones",
        "milestones": [
            {"title": "Design", "amountMinor": 150000, "dueDate": "2030-01-31"},
            {"title": "Build", "amountMinor": 50000, "dueDate": "2030-03-31"},
        ],
    }
    found, _, _ = await ledger.activate(terms)
    return found


async def test_an_amendment_is_journaled_once_under_the_contract(
    ledger: Ledger, contract: Contract
) -> None:
    payload = amended(contract)
    event_id = await publish(ledger, payload)
    await ledger.fleet.deliver()
    [entry] = amendments(await ledger.history(contract.id))
    assert entry["subject"] == contract.id
    assert entry["idempotencyKey"] == f"contract-amended:{contract.id}:1"
    cid = contract.id
    assert entry["data"] == {
        "contractId": cid,
        "number": 1,
        "termsVersion": 2,
        "currency": "EUR",
        "totalMinor": 250000,
        "previousTotalMinor": 200000,
        "endDate": "2030-06-30",
        "schedule": [
            {
                "itemId": f"{cid}-0",
                "title": "Design",
                "amountMinor": 150000,
                "dueDate": "2030-01-31",
            },
            {
                "itemId": f"{cid}-a1-1",
                "title": "Build, extended",
                "amountMinor": 100000,
                "dueDate": "2030-05-31",
            },
        ],
        "addedItemIds": [f"{cid}-a1-1"],
        "removedItemIds": [f"{cid}-1"],
        "pdfSha256": payload.pdf_sha256,
        "finalPdfSha256": payload.final_pdf_sha256,
        "signatureIds": ["sig-a1", "sig-a2"],
        "signatureEntryIds": [41, 42],
        "amendedAt": "2030-03-01T10:00:00.000000Z",
        "eventId": event_id,
    }

    # Redelivered, and published again under another event id: nothing new.
    await publish(ledger, payload, event_id=event_id)
    assert await ledger.fleet.deliver() >= 1
    await publish(ledger, payload)
    assert await ledger.fleet.deliver() >= 1
    assert amendments(await ledger.history(contract.id)) == [entry]

    # The next amendment is an entry of its own.
    await publish(ledger, amended(contract, 2))
    await ledger.fleet.deliver()
    found = amendments(await ledger.history(contract.id))
    assert [(e["data"]["number"], e["data"]["termsVersion"]) for e in found] == [(1, 2), (2, 3)]


@pytest.mark.parametrize("who", ["client", "contractor", "admin"])
async def test_the_parties_read_the_amendment_with_the_contracts_history(
    ledger: Ledger, contract: Contract, who: str
) -> None:
    payload = amended(contract, 7)
    await publish(ledger, payload)
    await ledger.fleet.deliver()
    headers = {
        "client": ledger.user(contract.client_user_id, "client"),
        "contractor": ledger.user(contract.contractor_user_id, "contractor"),
        "admin": ledger.admin(),
    }[who]
    response = await ledger.client.get(
        f"/v1/ledger/contracts/{contract.id}/history", params={"limit": 100}, headers=headers
    )
    assert response.status_code == 200, response.text
    kinds = [e["kind"] for e in response.json()["items"]]
    assert kinds[:2] == ["signature", "signature"]
    assert "contract-activated" in kinds
    entry = next(
        e
        for e in amendments(response.json()["items"])
        if e["data"]["number"] == 7  # the module's contract has other amendments too
    )
    # Its proof, for the same readers: the entry belongs to the contract.
    proof = await ledger.client.get(f"/v1/ledger/entries/{entry['seq']}/proof", headers=headers)
    assert proof.status_code == 200, proof.text
    # The amendment's sealed PDF verifies against the contract's entries.
    verify = await ledger.client.post(
        "/v1/ledger/verify",
        json={"contractId": contract.id, "pdfSha256": payload.final_pdf_sha256},
        headers=headers,
    )
    assert verify.status_code == 200, verify.text
    assert verify.json()["matches"] == [
        {"seq": entry["seq"], "kind": "contract-amended", "field": "finalPdfSha256"}
    ]


async def test_strangers_do_not_read_an_amendment(ledger: Ledger, contract: Contract) -> None:
    await publish(ledger, amended(contract, 9))
    await ledger.fleet.deliver()
    [entry] = [e for e in amendments(await ledger.history(contract.id)) if e["data"]["number"] == 9]
    stranger = ledger.user(uuid.uuid4().hex, "client")
    path = f"/v1/ledger/contracts/{contract.id}/history"
    ledger.problem(await ledger.client.get(path, headers=stranger), 404, "not-found")
    proof = await ledger.client.get(f"/v1/ledger/entries/{entry['seq']}/proof", headers=stranger)
    ledger.problem(proof, 404, "not-found")


async def test_only_the_ledger_appends_amendments(ledger: Ledger, contract: Contract) -> None:
    assert "contract-amended" in STEP_KINDS
    assert "contract-amended" not in ITEM_KINDS  # its subject is the contract
    response = await ledger.client.post(
        "/internal/ledger/entries",
        json={
            "kind": "contract-amended",
            "subject": contract.id,
            "data": {"contractId": contract.id, "number": 99},
            "idempotencyKey": f"contract-amended:{contract.id}:99",
        },
        headers=ledger.service("signature"),
    )
    ledger.problem(response, 422, "reserved-kind")
