"""Invoices: each release issues one (payment consumes its own
``payment.released``), numbered per contractor in sequence, once however
the event is redelivered; the PDF in S3 under the SHA-256 the invoice and
``payment.invoice-issued`` carry; the two parties read it, nobody else."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from pypdf import PdfReader

from mindlinks_dev.harness import Running
from mindlinks_fleet.events import PaymentReleased
from mindlinks_kit.dynamo import from_wire
from mindlinks_kit.events.envelope import Detail
from mindlinks_payment.invoice_store import InvoiceStore
from mindlinks_payment.invoices import Invoice, invoice_id_for, pdf_key
from mindlinks_payment.service.invoicing import Invoicing

if TYPE_CHECKING:
    from conftest import Contract, Payments

INVOICES = "/v1/payments/invoices"
ADDRESS = {
    "line1": "1 Analytical Row",
    "line2": None,
    "city": "London",
    "region": None,
    "postalCode": "EC1A 1AA",
    "country": "GB",
}


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


def registered(payments: Payments, contract: Contract, legal_name: str) -> None:
    """The client company as the client service has it, and the contractor's profile."""
    payments.stand_ins.companies[contract.client_company_id] = {
        "id": contract.client_company_id,
        "legalName": legal_name,
        "tradingName": None,
        "status": "active",
        "ownerUserId": contract.client_user_id,
        "jurisdictionCode": "gb",
        "companyNumber": "ML123456",
        "nameMismatch": False,
        "address": {**ADDRESS, "line1": "9 Widget Street"},
    }
    payments.contractor_profile(contract)
    profile = payments.stand_ins.contractors_by_user[contract.contractor_user_id]
    profile.update(verifiedLegalName="Grace Brewster Hopper", address=ADDRESS, taxId="GB999")


def same_contractor(payments: Payments, first: Contract, amounts: tuple[int, ...]) -> Contract:
    """Another client's contract with ``first``'s contractor."""
    contract = payments.contract(amounts)
    contract.contractor_user_id = first.contractor_user_id
    contract.contractor_id = first.contractor_id
    contract.contractor = first.contractor
    payments.stand_ins.contracts[contract.id] = contract.document()
    return contract


async def funded(payments: Payments, contract: Contract) -> list[dict[str, Any]]:
    """Activated, every item paid into escrow, the contractor ready for transfers."""
    contract.event_id = await payments.publish(contract)
    await payments.fleet.deliver()
    for index in range(len(contract.schedule)):
        await payments.fund(contract, index)
    profiles = payments.stand_ins.contractors_by_user
    profile = profiles.get(contract.contractor_user_id)
    await payments.payout_ready(contract)  # (writes a plain profile)
    if profile is not None:
        profiles[contract.contractor_user_id] = profile
    items: list[dict[str, Any]] = (await payments.schedule(contract, contract.client))["items"]
    return items


async def release(payments: Payments, contract: Contract, escrow_id: str) -> None:
    response = await payments.client.post(
        f"/v1/payments/escrow/{escrow_id}/release", headers={**contract.client, **key()}
    )
    assert response.status_code == 200, response.text


async def listed(payments: Payments, headers: dict[str, str], query: str = "") -> Any:
    response = await payments.client.get(INVOICES + query, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def sent_detail(fleet: Running, name: str, contract_id: str) -> Detail:
    """The envelope detail of the ``name`` event payment wrote for a contract."""
    runtime = fleet.runtime("payment")
    paginator = runtime.aws.dynamodb.get_paginator("scan")
    async for page in paginator.paginate(TableName=runtime.table("outbox").name):
        for raw in page.get("Items", []):
            item = from_wire(raw)
            detail = Detail.model_validate_json(str(item["detail"]))
            if item["detailType"] == name and detail.data.get("contractId") == contract_id:
                return detail
    raise AssertionError(f"no {name} for {contract_id}")


def text_of(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def test_a_release_issues_the_contractors_invoice_to_the_client(
    fleet: Running, payments: Payments
) -> None:
    contract = payments.contract((150000,))
    registered(payments, contract, "Acme <b>Widgets</b> & Sons Ltd")
    (item,) = await funded(payments, contract)
    await release(payments, contract, item["escrowId"])
    await fleet.deliver()

    (issued,) = await payments.published("payment.invoice-issued", contract.id)
    invoice_id = invoice_id_for(item["escrowId"])
    assert issued["invoiceId"] == invoice_id
    assert issued["number"] == "INV-000001"
    assert (issued["amountMinor"], issued["currency"]) == (150000, "EUR")
    assert (issued["contractorId"], issued["clientCompanyId"]) == (
        contract.contractor_id,
        contract.client_company_id,
    )

    response = await payments.client.get(f"{INVOICES}/{invoice_id}", headers=contract.contractor)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["number"] == "INV-000001"
    assert (body["contractId"], body["contractTitle"]) == (contract.id, "Website redesign")
    assert (body["escrowId"], body["itemId"], body["itemTitle"]) == (
        item["escrowId"],
        item["itemId"],
        "Milestone 1",
    )
    assert body["transferId"].startswith("tr_local_")
    assert (body["amountMinor"], body["itemAmountMinor"], body["currency"]) == (
        150000,
        150000,
        "EUR",
    )
    assert body["reason"] == "approved"
    assert body["issuer"] == {
        "contractorId": contract.contractor_id,
        "legalName": "Grace Brewster Hopper",
        "email": f"{contract.contractor_user_id}@example.com",
        "address": ADDRESS,
        "country": None,
        "taxId": "GB999",
    }
    assert body["recipient"] == {
        "companyId": contract.client_company_id,
        "legalName": "Acme <b>Widgets</b> & Sons Ltd",
        "jurisdictionCode": "gb",
        "companyNumber": "ML123456",
        "address": {**ADDRESS, "line1": "9 Widget Street"},
    }
    assert body["issuedAt"] == issued["issuedAt"]
    assert body["pdfSha256"] == issued["pdfSha256"]

    pdf = await payments.client.get(f"{INVOICES}/{invoice_id}/pdf", headers=contract.client)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == 'inline; filename="INV-000001.pdf"'
    digest = hashlib.sha256(pdf.content).digest()
    assert digest.hex() == body["pdfSha256"]
    assert pdf.headers["repr-digest"] == f"sha-256=:{base64.b64encode(digest).decode()}:"
    assert len(pdf.content) == body["pdfSize"]

    # The stored object is the document the invoice names, byte for byte.
    runtime = fleet.runtime("payment")
    stored = await runtime.aws.s3.get_object(
        Bucket=runtime.settings.physical("payment-invoices"),
        Key=pdf_key(invoice_id, body["pdfSha256"]),
    )
    async with stored["Body"] as stream:
        assert await stream.read() == pdf.content
    assert stored["Metadata"]["sha256"] == body["pdfSha256"]

    text = text_of(pdf.content)
    for expected in (
        "Invoice INV-000001",
        "Grace Brewster Hopper",
        "Tax id GB999",
        "1 Analytical Row",
        "Acme <b>Widgets</b> & Sons Ltd",  # escaped, so printed as written
        "Company number ML123456 (gb)",
        "9 Widget Street",
        "Milestone 1",
        contract.id,
        "EUR 1,500.00",
        "Amount in minor units: 150000 EUR",
        f"Issue date {body['issuedAt'][:10]}",
    ):
        assert expected in text, expected


async def test_numbers_follow_each_other_per_contractor_across_contracts(
    fleet: Running, payments: Payments
) -> None:
    first = payments.contract((1000, 2000))
    registered(payments, first, "First Client Ltd")
    second = same_contractor(payments, first, (3000,))
    registered(payments, second, "Second Client Ltd")
    other = payments.contract((4000,))  # another contractor: a series of its own
    registered(payments, other, "Third Client Ltd")
    a, b = await funded(payments, first)
    (c,) = await funded(payments, second)
    (d,) = await funded(payments, other)

    for contract, item in ((first, a), (second, c), (other, d), (first, b)):
        await release(payments, contract, item["escrowId"])
        await fleet.deliver()

    mine = await listed(payments, first.contractor)
    assert [(i["number"], i["amountMinor"]) for i in mine["items"]] == [
        ("INV-000003", 2000),
        ("INV-000002", 3000),
        ("INV-000001", 1000),
    ]
    assert mine["nextCursor"] is None
    assert [i["number"] for i in (await listed(payments, other.contractor))["items"]] == [
        "INV-000001"
    ]
    # Each client company lists what it received; ?contractId= narrows it.
    received = await listed(payments, first.client)
    assert [i["itemId"] for i in received["items"]] == [b["itemId"], a["itemId"]]
    assert {i["recipient"]["legalName"] for i in received["items"]} == {"First Client Ltd"}
    assert [i["number"] for i in (await listed(payments, second.client))["items"]] == ["INV-000002"]
    narrowed = await listed(payments, first.contractor, f"?contractId={second.id}")
    assert [i["number"] for i in narrowed["items"]] == ["INV-000002"]
    # Pages: newest first, the cursor bound to the caller.
    page = await listed(payments, first.contractor, "?limit=2")
    assert [i["number"] for i in page["items"]] == ["INV-000003", "INV-000002"]
    rest = await listed(payments, first.contractor, f"?limit=2&cursor={page['nextCursor']}")
    assert [i["number"] for i in rest["items"]] == ["INV-000001"]
    assert rest["nextCursor"] is None
    stolen = await payments.client.get(
        f"{INVOICES}?cursor={page['nextCursor']}", headers=first.client
    )
    payments.problem(stolen, 422, "invalid-cursor")


async def test_two_releases_at_once_get_consecutive_numbers(
    fleet: Running, payments: Payments
) -> None:
    """Both read the same last number; one commits, the other's counter
    condition fails and it numbers again: two numbers, consecutive, no gap."""
    first = payments.contract((1000,))
    registered(payments, first, "First Client Ltd")
    second = same_contractor(payments, first, (2000,))
    registered(payments, second, "Second Client Ltd")
    (a,) = await funded(payments, first)
    (b,) = await funded(payments, second)
    await asyncio.gather(
        release(payments, first, a["escrowId"]), release(payments, second, b["escrowId"])
    )
    events = [
        PaymentReleased.model_validate(e)
        for c in (first, second)
        for e in await payments.published("payment.released", c.id)
    ]
    deps = fleet.deps("payment")
    invoicing: Invoicing = deps.invoicing
    real: InvoiceStore = invoicing.store  # type: ignore[assignment]
    both_read = asyncio.Barrier(2)
    reads: list[int] = []

    class BothReadFirst:
        """The store, where the first two reads of the counter wait for each other."""

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        async def last_number(self, contractor_id: str) -> int:
            found = await real.last_number(contractor_id)
            reads.append(found)
            if len(reads) <= 2:
                await both_read.wait()
            return found

    racing = Invoicing(
        store=BothReadFirst(),  # type: ignore[arg-type]
        files=invoicing.files,
        escrows=invoicing.escrows,
        parties=invoicing.parties,
        publish=invoicing.publish,
        uow=invoicing.uow,
        cursors=invoicing.cursors,
    )
    issued = await asyncio.gather(*(racing.issue(e) for e in events))
    # Both read 0; the loser read again and numbered after the winner's commit.
    assert reads[:2] == [0, 0]
    assert reads[-1] == 1
    assert sorted(i.number for i in issued) == ["INV-000001", "INV-000002"]
    # The bus then delivers both releases: nothing more is issued.
    await fleet.deliver()
    listing = await listed(payments, first.contractor)
    assert sorted(i["number"] for i in listing["items"]) == ["INV-000001", "INV-000002"]
    for invoice in issued:
        shown = await payments.client.get(f"{INVOICES}/{invoice.id}/pdf", headers=first.contractor)
        assert hashlib.sha256(shown.content).hexdigest() == invoice.pdf_sha256
        assert f"Invoice {invoice.number}" in text_of(shown.content)
    published = [
        e for c in (first, second) for e in await payments.published("payment.invoice-issued", c.id)
    ]
    assert sorted(e["number"] for e in published) == ["INV-000001", "INV-000002"]


async def test_a_redelivered_release_issues_no_second_invoice(
    fleet: Running, payments: Payments
) -> None:
    contract = payments.contract((5000,))
    registered(payments, contract, "Client Ltd")
    (item,) = await funded(payments, contract)
    await release(payments, contract, item["escrowId"])
    await fleet.deliver()
    (released,) = await payments.published("payment.released", contract.id)
    runtime = fleet.runtime("payment")

    sent = await sent_detail(fleet, "payment.released", contract.id)
    # The same event again, and the same release under a new event id.
    for event_id in (None, uuid.uuid4().hex):
        detail = sent.model_copy()
        if event_id is not None:
            detail.id = event_id
        await runtime.aws.events.put_events(
            Entries=[
                {
                    "EventBusName": runtime.settings.physical(runtime.fleet.bus),
                    "Source": "mindlinks.payment",
                    "DetailType": "payment.released",
                    "Detail": detail.model_dump_json(by_alias=True),
                }
            ]
        )
        await fleet.deliver()
    assert len(await payments.published("payment.invoice-issued", contract.id)) == 1
    assert [i["number"] for i in (await listed(payments, contract.contractor))["items"]] == [
        "INV-000001"
    ]
    # Issuing again directly answers the invoice issued before.
    again = await fleet.deps("payment").invoicing.issue(PaymentReleased.model_validate(released))
    assert again.number == "INV-000001"


async def test_a_split_invoices_what_reached_the_contractor(
    fleet: Running, payments: Payments
) -> None:
    contract = payments.contract((10000,))
    registered(payments, contract, "Client Ltd")
    (item,) = await funded(payments, contract)
    split = PaymentReleased(
        contract_id=contract.id,
        item_id=item["itemId"],
        escrow_id=item["escrowId"],
        transfer_id="tr_split",
        client_user_id=contract.client_user_id,
        contractor_user_id=contract.contractor_user_id,
        contractor_id=contract.contractor_id,
        amount_minor=2550,
        currency="EUR",
        all_released=True,
        reason="dispute",
    )
    invoice: Invoice = await fleet.deps("payment").invoicing.issue(split)
    assert (invoice.amount_minor, invoice.item_amount_minor) == (2550, 10000)
    shown = await payments.client.get(f"{INVOICES}/{invoice.id}/pdf", headers=contract.client)
    text = text_of(shown.content)
    assert "EUR 25.50" in text
    assert "Part of the item's EUR 100.00" in text
    assert "Released by a dispute resolution" in text


async def test_only_the_two_parties_read_an_invoice(fleet: Running, payments: Payments) -> None:
    contract = payments.contract((1000,))
    registered(payments, contract, "Client Ltd")
    (item,) = await funded(payments, contract)
    await release(payments, contract, item["escrowId"])
    await fleet.deliver()
    invoice_id = invoice_id_for(item["escrowId"])
    get = payments.client.get
    one, pdf = f"{INVOICES}/{invoice_id}", f"{INVOICES}/{invoice_id}/pdf"

    # The other party, and any member of the client company.
    viewer = payments.member(contract, "viewer")
    for headers in (contract.client, contract.contractor, viewer):
        assert (await get(one, headers=headers)).status_code == 200
        assert (await get(pdf, headers=headers)).status_code == 200
    assert [i["id"] for i in (await listed(payments, viewer))["items"]] == [invoice_id]

    # A third company, another contractor, an unknown id: alike.
    stranger = payments.contract()
    unknown = f"{INVOICES}/{invoice_id_for('esc_unknown')}"
    answers = []
    for headers, path in (
        (stranger.client, one),
        (stranger.contractor, one),
        (stranger.client, pdf),
        (stranger.contractor, pdf),
        (contract.client, unknown),
        (contract.client, unknown + "/pdf"),
    ):
        found = payments.problem(await get(path, headers=headers), 404, "invoice-not-found")
        answers.append({k: v for k, v in found.items() if k != "instance"})
    assert all(a == answers[0] for a in answers)
    assert (await listed(payments, stranger.client))["items"] == []
    assert (await listed(payments, stranger.contractor))["items"] == []
    assert (await listed(payments, stranger.client, f"?contractId={contract.id}"))["items"] == []

    # Admins list a contract's invoices, and are no party to one.
    admin = payments.headers(uuid.uuid4().hex, "admin")
    by_contract = await listed(payments, admin, f"?contractId={contract.id}")
    assert [i["id"] for i in by_contract["items"]] == [invoice_id]
    payments.problem(await get(INVOICES, headers=admin), 422, "contract-id-required")
    payments.problem(await get(one, headers=admin), 403, "forbidden")
    payments.problem(await get(pdf, headers=admin), 403, "forbidden")
    # Without a company, or without a token.
    lonely = payments.headers(uuid.uuid4().hex, "client")
    payments.problem(await get(one, headers=lonely), 409, "company-required")
    assert (await get(one)).status_code == 401
    assert (await get(INVOICES, headers=fleet.service_bearer("contract"))).status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        f"{INVOICES}/has space",
        f"{INVOICES}/has space/pdf",
        f"{INVOICES}?limit=0",
        f"{INVOICES}?limit=101",
        f"{INVOICES}?contractId=has space",
        f"{INVOICES}?cursor=short",
    ],
)
async def test_bad_input_is_refused(payments: Payments, path: str) -> None:
    contract = payments.contract()
    payments.problem(await payments.client.get(path, headers=contract.client), 422)
