"""The money's steps in the journal (issue 15): each step of an escrowed item
under its escrow id, a contract's early end under the contract, an invoice's
PDF hash; once each, however often delivered; readable by the contract's
parties and admins."""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import BaseModel

from mindlinks_fleet.events import (
    ChangesRequested,
    ContractExpired,
    ContractTerminated,
    EscrowDisputed,
    EscrowSettled,
    InvoiceIssued,
    PaymentConfirmed,
    PaymentRefunded,
    PaymentReleased,
    ReviewReminder,
    WorkSubmitted,
)
from mindlinks_kit.events.envelope import Detail
from mindlinks_ledger.domain import STEP_EVENTS, STEP_KINDS
from mindlinks_ledger.service.escrow import STEPS

if TYPE_CHECKING:
    from conftest import Contract, Ledger


class Item:
    """An escrowed item of a contract, and the events payment publishes about it."""

    def __init__(self, contract: Contract, amount_minor: int = 150000) -> None:
        self.contract = contract
        self.escrow_id = f"esc-{uuid.uuid4().hex[:12]}"
        self.amount_minor = amount_minor

    def step(self) -> dict[str, Any]:
        body = self.contract.body
        return {
            "contract_id": self.contract.id,
            "item_id": f"{self.contract.id}-0",
            "escrow_id": self.escrow_id,
            "client_company_id": body["clientCompanyId"],
            "client_user_id": self.contract.client_user_id,
            "contractor_id": body["contractorId"],
            "contractor_user_id": self.contract.contractor_user_id,
            "amount_minor": self.amount_minor,
            "currency": "EUR",
        }

    def confirmed(self) -> PaymentConfirmed:
        s = self.step()
        return PaymentConfirmed(
            contract_id=s["contract_id"],
            item_id=s["item_id"],
            transaction_id=f"tx-{self.escrow_id}",
            escrow_id=self.escrow_id,
            client_user_id=s["client_user_id"],
            contractor_user_id=s["contractor_user_id"],
            amount_minor=self.amount_minor,
            currency="EUR",
        )

    def submitted(self, number: int = 1) -> WorkSubmitted:
        return WorkSubmitted(
            **self.step(),
            submission_no=number,
            submitted_by_user_id=self.contract.contractor_user_id,
            file_count=2,
            review_due_at="2030-02-15T10:00:00.000000Z",
        )

    def changes(self, number: int = 1) -> ChangesRequested:
        return ChangesRequested(
            **self.step(),
            submission_no=number,
            requested_by_user_id=self.contract.client_user_id,
            reason="The footer is missing",
        )

    def reminder(self, days_left: int) -> ReviewReminder:
        return ReviewReminder(
            **self.step(), review_due_at="2030-02-15T10:00:00.000000Z", days_left=days_left
        )

    def disputed(self) -> EscrowDisputed:
        return EscrowDisputed(
            **self.step(),
            opened_by_user_id=self.contract.client_user_id,
            opened_by_side="client",
            reason="Not what we agreed",
            frozen_state="submitted",
        )

    def released(self, amount_minor: int) -> PaymentReleased:
        s = self.step()
        return PaymentReleased(
            contract_id=s["contract_id"],
            item_id=s["item_id"],
            escrow_id=self.escrow_id,
            transfer_id=f"tr_{self.escrow_id}",
            client_user_id=s["client_user_id"],
            contractor_user_id=s["contractor_user_id"],
            contractor_id=s["contractor_id"],
            amount_minor=amount_minor,
            currency="EUR",
            all_released=False,
            reason="dispute",
        )

    def refunded(self, refunded_minor: int) -> PaymentRefunded:
        return PaymentRefunded(
            **self.step(),
            refund_id=f"re_{self.escrow_id}",
            refunded_minor=refunded_minor,
            reason="dispute",
        )

    def settled(self, released_minor: int, admin: str) -> EscrowSettled:
        return EscrowSettled(
            **self.step(),
            outcome="split",
            released_minor=released_minor,
            refunded_minor=self.amount_minor - released_minor,
            reason="dispute",
            by_user_id=admin,
            all_settled=True,
        )

    def invoiced(self, pdf_sha256: str) -> InvoiceIssued:
        s = self.step()
        return InvoiceIssued(
            invoice_id=f"inv-{self.escrow_id}",
            number="ML-ct-0001",
            escrow_id=self.escrow_id,
            contract_id=s["contract_id"],
            contractor_id=s["contractor_id"],
            contractor_user_id=s["contractor_user_id"],
            client_company_id=s["client_company_id"],
            client_user_id=s["client_user_id"],
            amount_minor=100000,
            currency="EUR",
            pdf_sha256=pdf_sha256,
            issued_at="2030-02-20T10:00:00.000000Z",
        )


async def publish(
    ledger: Ledger, name: str, payload: BaseModel, event_id: str | None = None
) -> str:
    """``name`` on the bus as its producer publishes it; returns the event id."""
    data = payload.model_dump(mode="json", by_alias=True)
    detail = Detail(data=data) if event_id is None else Detail(id=event_id, data=data)
    await ledger.put_on_bus(detail, name)
    return detail.id


@pytest.fixture(scope="module")
async def contract(ledger: Ledger) -> Contract:
    found, _, _ = await ledger.activate()
    return found


def test_every_step_event_has_its_kind_and_subject() -> None:
    assert set(STEPS) == set(STEP_EVENTS)
    assert {name.replace(".", "-") for name in STEP_EVENTS} == STEP_KINDS


async def test_a_disputed_item_split_by_an_admin_is_in_the_journal_step_by_step(
    ledger: Ledger, contract: Contract
) -> None:
    item = Item(contract)
    admin = uuid.uuid4().hex
    pdf_sha256 = hashlib.sha256(b"%PDF invoice").hexdigest()
    steps: list[tuple[str, BaseModel]] = [
        ("payment.confirmed", item.confirmed()),
        ("payment.work-submitted", item.submitted(1)),
        ("payment.changes-requested", item.changes(1)),
        ("payment.work-submitted", item.submitted(2)),
        ("payment.review-reminder", item.reminder(7)),
        ("payment.disputed", item.disputed()),
        ("payment.released", item.released(100000)),
        ("payment.refunded", item.refunded(50000)),
        ("payment.item-settled", item.settled(100000, admin)),
        ("payment.invoice-issued", item.invoiced(pdf_sha256)),
    ]
    ids = []
    for name, payload in steps:
        ids.append(await publish(ledger, name, payload))
        await ledger.fleet.deliver()  # one by one: the journal keeps their order
    entries = await ledger.history(item.escrow_id)
    assert [e["kind"] for e in entries] == [name.replace(".", "-") for name, _ in steps]
    for entry, (_, payload), event_id in zip(entries, steps, ids, strict=True):
        assert entry["subject"] == item.escrow_id
        assert entry["data"] == {
            **payload.model_dump(mode="json", by_alias=True),
            "eventId": event_id,
        }
        assert entry["data"]["contractId"] == contract.id  # linked to its contract
    settled = entries[8]["data"]
    assert (settled["outcome"], settled["releasedMinor"], settled["refundedMinor"]) == (
        "split",
        100000,
        50000,
    )
    assert settled["byUserId"] == admin
    assert entries[9]["data"]["pdfSha256"] == pdf_sha256
    assert entries[1]["idempotencyKey"] == f"payment-work-submitted:{item.escrow_id}:1"
    assert entries[3]["idempotencyKey"] == f"payment-work-submitted:{item.escrow_id}:2"


async def test_a_termination_records_the_final_state_and_reason_under_the_contract(
    ledger: Ledger,
) -> None:
    contract, _, _ = await ledger.activate()
    body = contract.body
    ended = ContractTerminated(
        contract_id=contract.id,
        title=body["title"],
        client_company_id=body["clientCompanyId"],
        client_user_id=contract.client_user_id,
        contractor_id=body["contractorId"],
        contractor_user_id=contract.contractor_user_id,
        by_user_id=contract.client_user_id,
        by_side="client",
        reason="The project was cancelled",
        notice_days=14,
        ended_at="2030-03-01T00:00:00.000000Z",
    )
    event_id = await publish(ledger, "contract.terminated", ended)
    await ledger.fleet.deliver()
    entries = await ledger.history(contract.id)
    last = entries[-1]
    assert last["kind"] == "contract-terminated"
    assert last["data"]["finalState"] == "terminated"
    assert last["data"]["reason"] == "The project was cancelled"
    assert last["data"]["bySide"] == "client"
    assert last["data"]["eventId"] == event_id
    assert last["idempotencyKey"] == f"contract-terminated:{contract.id}"


async def test_an_expiry_records_the_final_state_under_the_contract_once(ledger: Ledger) -> None:
    contract, _, _ = await ledger.activate()
    body = contract.body
    expired = ContractExpired(
        contract_id=contract.id,
        title=body["title"],
        client_company_id=body["clientCompanyId"],
        client_user_id=contract.client_user_id,
        contractor_id=body["contractorId"],
        contractor_user_id=contract.contractor_user_id,
        signing_deadline="2030-03-15T00:00:00.000000Z",
        expired_at="2030-03-15T00:00:01.000000Z",
        waiting_for="contractor",
    )
    event_id = await publish(ledger, "contract.expired", expired)
    await ledger.fleet.deliver()
    await publish(ledger, "contract.expired", expired)  # published twice: one entry
    await ledger.fleet.deliver()
    found = [e for e in await ledger.history(contract.id) if e["kind"] == "contract-expired"]
    assert len(found) == 1
    (entry,) = found
    assert entry["data"]["finalState"] == "expired"
    assert entry["data"]["waitingFor"] == "contractor"
    assert entry["data"]["eventId"] == event_id
    assert entry["idempotencyKey"] == f"contract-expired:{contract.id}"


async def test_a_redelivered_step_or_the_same_step_published_again_appends_nothing(
    ledger: Ledger, contract: Contract
) -> None:
    item = Item(contract)
    event_id = await publish(ledger, "payment.work-submitted", item.submitted(1))
    await ledger.fleet.deliver()
    [first] = await ledger.history(item.escrow_id)

    await publish(ledger, "payment.work-submitted", item.submitted(1), event_id=event_id)
    assert await ledger.fleet.deliver() >= 1  # delivered, and handled
    await publish(ledger, "payment.work-submitted", item.submitted(1))  # another event id
    assert await ledger.fleet.deliver() >= 1
    assert await ledger.history(item.escrow_id) == [first]
    assert first["data"]["eventId"] == event_id

    # A second submission is a step of its own.
    await publish(ledger, "payment.work-submitted", item.submitted(2))
    await ledger.fleet.deliver()
    assert [e["data"]["submissionNo"] for e in await ledger.history(item.escrow_id)] == [1, 2]


async def test_only_the_ledger_appends_money_steps(ledger: Ledger) -> None:
    for kind in sorted(STEP_KINDS):
        response = await ledger.client.post(
            "/internal/ledger/entries",
            json={
                "kind": kind,
                "subject": f"esc-{uuid.uuid4().hex[:8]}",
                "data": {"contractId": "c-forged"},
                "idempotencyKey": uuid.uuid4().hex,
            },
            headers=ledger.service("signature"),
        )
        ledger.problem(response, 422, "reserved-kind")


# who reads an item's history ----------------------------------------------------


@pytest.fixture(scope="module")
async def item(ledger: Ledger, contract: Contract) -> Item:
    found = Item(contract)
    for name, payload in (
        ("payment.confirmed", found.confirmed()),
        ("payment.work-submitted", found.submitted(1)),
        ("payment.disputed", found.disputed()),
    ):
        await publish(ledger, name, payload)
        await ledger.fleet.deliver()
    return found


def as_party(ledger: Ledger, contract: Contract, who: str) -> dict[str, str]:
    if who == "client":
        return ledger.user(contract.client_user_id, "client")
    if who == "contractor":
        return ledger.user(contract.contractor_user_id, "contractor")
    return ledger.admin()


@pytest.mark.parametrize("who", ["client", "contractor", "admin"])
async def test_the_parties_and_admins_read_an_items_history(
    ledger: Ledger, contract: Contract, item: Item, who: str
) -> None:
    headers = as_party(ledger, contract, who)
    path = f"/v1/ledger/escrow/{item.escrow_id}/history"
    response = await ledger.client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    kinds = [e["kind"] for e in response.json()["items"]]
    assert kinds == ["payment-confirmed", "payment-work-submitted", "payment-disputed"]
    first = await ledger.client.get(path, params={"limit": 2}, headers=headers)
    assert len(first.json()["items"]) == 2
    rest = await ledger.client.get(
        path, params={"cursor": first.json()["nextCursor"]}, headers=headers
    )
    assert [e["kind"] for e in rest.json()["items"]] == ["payment-disputed"]
    # Each entry's proof, for the same readers.
    seq = response.json()["items"][0]["seq"]
    proof = await ledger.client.get(f"/v1/ledger/entries/{seq}/proof", headers=headers)
    assert proof.status_code == 200, proof.text


async def test_strangers_and_unknown_items_get_404(
    ledger: Ledger, contract: Contract, item: Item
) -> None:
    path = f"/v1/ledger/escrow/{item.escrow_id}/history"
    seq = (await ledger.history(item.escrow_id))[0]["seq"]
    for headers in (
        ledger.user(uuid.uuid4().hex, "client"),
        ledger.user(uuid.uuid4().hex, "contractor"),
    ):
        ledger.problem(await ledger.client.get(path, headers=headers), 404, "not-found")
        proof = await ledger.client.get(f"/v1/ledger/entries/{seq}/proof", headers=headers)
        ledger.problem(proof, 404, "not-found")
    for headers in (ledger.admin(), as_party(ledger, contract, "client")):
        unknown = await ledger.client.get("/v1/ledger/escrow/esc-unknown/history", headers=headers)
        ledger.problem(unknown, 404, "not-found")
    client = as_party(ledger, contract, "client")
    for params in ({"limit": 0}, {"cursor": "!!"}):
        ledger.problem(await ledger.client.get(path, params=params, headers=client), 422)
    ledger.problem(await ledger.client.get("/v1/ledger/escrow/a%20b/history", headers=client), 422)
    ledger.problem(await ledger.client.get(path), 401)
