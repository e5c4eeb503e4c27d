"""signature.completed → activation and schedule in the journal, events out;
exactly once in effect, even across a crash between appends and commit."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev.harness import Running
from mindlinks_fleet.events import SignatureCompleted
from mindlinks_kit.events.envelope import Delivered, Detail
from mindlinks_ledger.domain import ActivationRefused, schedule_from_terms
from mindlinks_ledger.journal import Journal
from mindlinks_ledger.store import JournalStore

if TYPE_CHECKING:
    from conftest import Ledger

MILESTONES = {
    "kind": "milestones",
    "milestones": [
        {"title": "Design", "amountMinor": 50000, "dueDate": "2030-02-01"},
        {"title": "Build", "amountMinor": 70000, "dueDate": "2030-03-01"},
        {"title": "Launch", "amountMinor": 30000, "dueDate": "2030-04-01"},
    ],
}


async def test_completion_records_the_activation_and_schedule(ledger: Ledger) -> None:
    contract, payload, event_id = await ledger.activate(MILESTONES, reviewDays=21, noticeDays=30)
    entries = await ledger.history(contract.id)
    kinds = [e["kind"] for e in entries]
    assert kinds == ["signature", "signature", "contract-activated", *["payment-scheduled"] * 3]
    activation = entries[2]
    assert activation["data"] == {
        "contractId": contract.id,
        "title": "Website redesign",
        "parties": {
            "clientCompanyId": contract.body["clientCompanyId"],
            "clientUserId": contract.client_user_id,
            "contractorId": contract.body["contractorId"],
            "contractorUserId": contract.contractor_user_id,
        },
        "partyNames": {"client": "Acme Ltd", "contractor": "Ada Lovelace"},
        "currency": "EUR",
        "pdfSha256": contract.pdf_sha256,
        "finalPdfSha256": contract.final_pdf_sha256,
        "signatureIds": payload.signature_ids,
        "signatureEntryIds": contract.signature_seqs,
        "schedule": [
            {
                "itemId": f"{contract.id}-0",
                "title": "Design",
                "amountMinor": 50000,
                "dueDate": "2030-02-01",
            },
            {
                "itemId": f"{contract.id}-1",
                "title": "Build",
                "amountMinor": 70000,
                "dueDate": "2030-03-01",
            },
            {
                "itemId": f"{contract.id}-2",
                "title": "Launch",
                "amountMinor": 30000,
                "dueDate": "2030-04-01",
            },
        ],
        "totalMinor": 150000,
        "reviewDays": 21,
        "noticeDays": 30,
        "eventId": event_id,
    }
    assert activation["idempotencyKey"] == f"contract-activated:{contract.id}"
    scheduled = entries[3:]
    assert [e["data"]["itemId"] for e in scheduled] == [f"{contract.id}-{i}" for i in range(3)]
    assert all(e["data"]["activationSeq"] == activation["seq"] for e in scheduled)

    [activated] = await ledger.published("ledger.contract-activated", contract.id)
    assert activated == {
        "contractId": contract.id,
        "title": "Website redesign",
        "clientCompanyId": contract.body["clientCompanyId"],
        "clientUserId": contract.client_user_id,
        "contractorId": contract.body["contractorId"],
        "contractorUserId": contract.contractor_user_id,
        "currency": "EUR",
        "schedule": activation["data"]["schedule"],
        "ledgerEntryId": activation["seq"],
        "reviewDays": 21,
        "noticeDays": 30,
    }
    payments = await ledger.published("ledger.payment-scheduled", contract.id)
    assert sorted(payments, key=lambda p: p["itemId"]) == [
        {
            "contractId": contract.id,
            "itemId": e["data"]["itemId"],
            "amountMinor": e["data"]["amountMinor"],
            "currency": "EUR",
            "dueDate": e["data"]["dueDate"],
            "ledgerEntryId": e["seq"],
        }
        for e in scheduled
    ]


async def test_the_activation_and_its_schedule_are_one_transaction(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    chains: list[list[str]] = []
    append_chain = JournalStore.append_chain

    async def spy(store: JournalStore, entries: list[Any], *args: Any) -> None:
        chains.append([e.kind for e in entries])
        await append_chain(store, entries, *args)

    monkeypatch.setattr(JournalStore, "append_chain", spy)
    contract, _, _ = await ledger.activate(MILESTONES)
    assert ["contract-activated", *["payment-scheduled"] * 3] in chains
    kinds = [e["kind"] for e in await ledger.history(contract.id)]
    assert kinds == ["signature", "signature", "contract-activated", *["payment-scheduled"] * 3]


async def test_without_one_transaction_the_schedule_is_appended_one_by_one(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def cannot(*args: Any) -> None:
        return None  # a used key or a moved tip, as append_together answers then

    monkeypatch.setattr(Journal, "append_together", cannot)
    contract, _, _ = await ledger.activate(MILESTONES)
    entries = await ledger.history(contract.id)
    kinds = [e["kind"] for e in entries]
    assert kinds == ["signature", "signature", "contract-activated", *["payment-scheduled"] * 3]
    assert all(e["data"]["activationSeq"] == entries[2]["seq"] for e in entries[3:])
    payments = await ledger.published("ledger.payment-scheduled", contract.id)
    assert sorted(p["ledgerEntryId"] for p in payments) == [e["seq"] for e in entries[3:]]


async def test_a_fixed_price_contract_has_one_item(ledger: Ledger) -> None:
    contract, _, _ = await ledger.activate()
    [activated] = await ledger.published("ledger.contract-activated", contract.id)
    # A contract that names no terms has the defaults.
    assert (activated["reviewDays"], activated["noticeDays"]) == (14, 0)
    assert activated["schedule"] == [
        {
            "itemId": f"{contract.id}-0",
            "title": "Website redesign",
            "amountMinor": 150000,
            "dueDate": "2030-01-31",
        }
    ]
    assert len(await ledger.published("ledger.payment-scheduled", contract.id)) == 1


async def test_the_review_and_notice_days_of_the_contract_travel_with_the_activation(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: the contract's terms say how long a review and a notice last;
    payment and contract read them from ``ledger.contract-activated``."""
    contracts = ledger.fleet.deps("ledger").activations.contracts
    read = contracts.get

    async def with_terms(contract_id: str) -> Any:
        found = await read(contract_id)
        return found.model_copy(update={"review_days": 5, "notice_days": 30}) if found else None

    monkeypatch.setattr(contracts, "get", with_terms)
    contract, _, _ = await ledger.activate()
    [activation] = [
        e for e in await ledger.history(contract.id) if e["kind"] == "contract-activated"
    ]
    assert (activation["data"]["reviewDays"], activation["data"]["noticeDays"]) == (5, 30)
    [activated] = await ledger.published("ledger.contract-activated", contract.id)
    assert (activated["reviewDays"], activated["noticeDays"]) == (5, 30)


async def test_a_redelivered_event_appends_and_publishes_nothing(ledger: Ledger) -> None:
    contract, payload, event_id = await ledger.activate(MILESTONES)
    before = await ledger.history(contract.id)
    assert await ledger.redeliver(payload, event_id) >= 1
    assert await ledger.history(contract.id) == before
    assert len(await ledger.published("ledger.contract-activated", contract.id)) == 1
    assert len(await ledger.published("ledger.payment-scheduled", contract.id)) == 3


async def test_a_second_completion_event_for_the_contract_changes_nothing(ledger: Ledger) -> None:
    """Another event id (say, re-sent by the signature service) is not a second activation."""
    contract, payload, _ = await ledger.activate()
    before = await ledger.history(contract.id)
    await ledger.publish_completed(payload)
    await ledger.fleet.deliver()
    assert await ledger.history(contract.id) == before
    assert len(await ledger.published("ledger.contract-activated", contract.id)) == 1


async def test_a_crash_between_appends_and_commit_is_repaired_by_redelivery(
    fleet: Running, ledger: Ledger
) -> None:
    contract = await ledger.add_contract(MILESTONES)
    await ledger.sign(contract)
    payload = ledger.completed(contract)
    event_id = uuid.uuid4().hex
    # The handler ran and appended, then the process died before the commit:
    # its unit of work (events + inbox record) is simply never committed.
    lost = fleet.runtime("ledger").uow()
    detail = Detail(id=event_id, data=payload.model_dump(mode="json", by_alias=True))
    handler = fleet.runtime("ledger").consumer
    assert handler is not None
    await handler.handlers["signature.completed"](
        Delivered("signature.completed", "mindlinks.signature", detail, payload), lost
    )
    appended = await ledger.history(contract.id)
    assert len(appended) == 2 + 1 + 3
    assert await ledger.published("ledger.contract-activated", contract.id) == []

    # SQS delivers the event again: same entries, and now the events.
    await ledger.put_on_bus(detail)
    await fleet.deliver()
    assert await ledger.history(contract.id) == appended
    [activated] = await ledger.published("ledger.contract-activated", contract.id)
    assert activated["ledgerEntryId"] == appended[2]["seq"]
    assert len(await ledger.published("ledger.payment-scheduled", contract.id)) == 3


@pytest.mark.parametrize(
    "change",
    [
        {"status": "sent_for_signature"},
        {"finalPdfSha256": "0" * 64},
        {"pdfSha256": "1" * 64},
        {"currency": "euro"},
        {"contractorUserId": "someone-else"},
        {"terms": {"kind": "hourly", "rateMinor": 100}},
        {"terms": {"kind": "fixed", "amountMinor": 0, "dueDate": "2030-01-01"}},
        {"terms": {"kind": "fixed", "amountMinor": 100, "dueDate": "soon"}},
        {"terms": {"kind": "milestones", "milestones": []}},
    ],
)
async def test_a_completion_that_does_not_match_the_contract_activates_nothing(
    fleet: Running, ledger: Ledger, change: dict[str, Any]
) -> None:
    contract = await ledger.add_contract()
    await ledger.sign(contract)
    payload = ledger.completed(contract)
    contract.body.update(change)
    await ledger.store_contract(contract)
    detail = Detail(data=payload.model_dump(mode="json", by_alias=True))
    consumer = fleet.runtime("ledger").consumer
    assert consumer is not None
    with pytest.raises(ActivationRefused):
        await consumer.handlers["signature.completed"](
            Delivered("signature.completed", "mindlinks.signature", detail, payload),
            fleet.runtime("ledger").uow(),
        )
    assert [e["kind"] for e in await ledger.history(contract.id)] == ["signature", "signature"]


async def test_a_contract_voided_before_its_activation_is_not_activated(
    fleet: Running, ledger: Ledger
) -> None:
    """An admin may void a fully signed contract: the completion still on its
    way activates nothing, schedules nothing, and is not retried."""
    contract = await ledger.add_contract()
    await ledger.sign(contract)
    payload = ledger.completed(contract)
    contract.body["status"] = "voided"
    await ledger.store_contract(contract)
    consumer = fleet.runtime("ledger").consumer
    assert consumer is not None
    detail = Detail(data=payload.model_dump(mode="json", by_alias=True))
    uow = fleet.runtime("ledger").uow()
    await consumer.handlers["signature.completed"](
        Delivered("signature.completed", "mindlinks.signature", detail, payload), uow
    )
    assert uow.writes == []
    await ledger.publish_completed(payload)
    await fleet.deliver()
    assert [e["kind"] for e in await ledger.history(contract.id)] == ["signature", "signature"]
    assert await ledger.published("ledger.contract-activated", contract.id) == []
    assert await ledger.published("ledger.payment-scheduled", contract.id) == []


async def test_signature_entries_must_be_the_contracts_own(fleet: Running, ledger: Ledger) -> None:
    contract = await ledger.add_contract()
    other = await ledger.add_contract()
    await ledger.sign(other)
    payload = ledger.completed(contract).model_copy(
        update={"ledger_entry_ids": other.signature_seqs}
    )
    consumer = fleet.runtime("ledger").consumer
    assert consumer is not None
    detail = Detail(data=payload.model_dump(mode="json", by_alias=True))
    for entry_ids in (other.signature_seqs, [], [10**9]):
        bad: SignatureCompleted = payload.model_copy(update={"ledger_entry_ids": entry_ids})
        with pytest.raises(ActivationRefused):
            await consumer.handlers["signature.completed"](
                Delivered("signature.completed", "mindlinks.signature", detail, bad),
                fleet.runtime("ledger").uow(),
            )
    assert await ledger.history(contract.id) == []


def test_schedule_item_ids_count_from_zero() -> None:
    items = schedule_from_terms("c-1", "T", MILESTONES)
    assert [(i.item_id, i.title, i.amount_minor) for i in items] == [
        ("c-1-0", "Design", 50000),
        ("c-1-1", "Build", 70000),
        ("c-1-2", "Launch", 30000),
    ]
    with pytest.raises(ActivationRefused):
        schedule_from_terms("c-1", "T", None)
    with pytest.raises(ActivationRefused):
        schedule_from_terms(
            "c-1", "T", {"kind": "fixed", "amountMinor": True, "dueDate": "2030-01-01"}
        )
