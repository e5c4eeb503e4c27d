"""The whole story: create → send → client signs → contractor signs → final
PDF with its certificate → fully signed → activated by the ledger."""

from __future__ import annotations

import hashlib
import io
import uuid
from typing import TYPE_CHECKING, Any

from pypdf import PdfReader

if TYPE_CHECKING:
    from conftest import Parties


async def _activate(world: Parties, contract: dict[str, Any], completed: dict[str, Any]) -> None:
    """The ledger's answer to ``signature.completed``: through the real ledger
    when it runs, else put on the bus in its envelope as the ledger would."""
    if "ledger" in world.fleet.apps:
        await world.fleet.deliver()
        return
    await world.emit(
        "ledger",
        "ledger.contract-activated",
        world.activated(contract, max(completed["ledgerEntryIds"]) + 1),
    )


async def test_the_whole_signing_story(world: Parties) -> None:
    client, contractor, contract = await world.sent()
    cid = contract["id"]
    original = await world.document(cid)
    assert hashlib.sha256(original).hexdigest() == contract["pdfSha256"]

    # Deployed, API Gateway and the ALB each append to X-Forwarded-For.
    settings = world.fleet.runtime("signature").settings
    settings.trusted_proxy_hops = 2
    try:
        signed = await world.sign(
            client,
            cid,
            headers={"x-forwarded-for": "203.0.113.7, 10.0.0.2", "user-agent": "Dashboard/1.0"},
        )
    finally:
        settings.trusted_proxy_hops = 0
    assert signed.status_code == 201, signed.text
    first = signed.json()
    assert (first["signerRole"], first["signerUserId"], first["contractStatus"]) == (
        "client",
        client.user_id,
        "client_signed",
    )
    assert (first["ipAddress"], first["userAgent"]) == ("203.0.113.7", "Dashboard/1.0")
    assert first["pdfSha256"] == contract["pdfSha256"]
    assert isinstance(first["ledgerReceipt"]["seq"], int)
    assert len(first["ledgerReceipt"]["entryHash"]) == 64
    assert (await world.contract(cid))["status"] == "client_signed"
    assert await world.events("signature.client-signed", cid) == [
        {
            "contractId": cid,
            "title": contract["title"],
            "clientCompanyId": client.company_id,
            "clientUserId": client.user_id,
            "contractorId": contractor.contractor_id,
            "contractorUserId": contractor.user_id,
            "signatureId": first["id"],
            "signerUserId": client.user_id,
            "signerRole": "client",
            "pdfSha256": contract["pdfSha256"],
            "ledgerEntryId": first["ledgerReceipt"]["seq"],
        }
    ]

    done = await world.sign(contractor, cid, signatureName="Grace B. Hopper")
    assert done.status_code == 201, done.text
    second = done.json()
    assert (second["signerRole"], second["contractStatus"]) == ("contractor", "fully_signed")
    assert second["ledgerReceipt"]["seq"] != first["ledgerReceipt"]["seq"]
    fully = await world.contract(cid)
    assert fully["status"] == "fully_signed"
    assert fully["finalPdfSha256"] == second["finalPdfSha256"]

    final = await world.document(cid, "final")
    assert hashlib.sha256(final).hexdigest() == fully["finalPdfSha256"]
    original_pages = len(PdfReader(io.BytesIO(original)).pages)
    final_reader = PdfReader(io.BytesIO(final))
    assert len(final_reader.pages) == original_pages + 1
    certificate = " ".join(final_reader.pages[-1].extract_text().split())
    for expected in (
        "Certificate of completion",
        f"signed for {client.legal_name} by Ada Owner (owner)",
        "Grace B. Hopper",
        contract["pdfSha256"],
        "203.0.113.7",
        f"#{first['ledgerReceipt']['seq']}",
        f"#{second['ledgerReceipt']['seq']}",
        first["ledgerReceipt"]["entryHash"],
        first["signedAt"],
        second["signedAt"],
    ):
        assert expected in certificate, expected
    # The signed pages are the original's, untouched.
    original_text = [p.extract_text() for p in PdfReader(io.BytesIO(original)).pages]
    assert [p.extract_text() for p in final_reader.pages[:original_pages]] == original_text

    [completed] = await world.events("signature.completed", cid)
    assert completed == {
        "contractId": cid,
        "title": contract["title"],
        "clientCompanyId": client.company_id,
        "clientUserId": client.user_id,
        "contractorId": contractor.contractor_id,
        "contractorUserId": contractor.user_id,
        "signatureIds": [first["id"], second["id"]],
        "pdfSha256": contract["pdfSha256"],
        "finalPdfSha256": fully["finalPdfSha256"],
        "ledgerEntryIds": [first["ledgerReceipt"]["seq"], second["ledgerReceipt"]["seq"]],
    }

    link = await world.fleet.client("contract").get(
        f"/v1/contracts/{cid}/pdf", params={"kind": "final"}, headers=client.headers
    )
    assert link.json()["sha256"] == fully["finalPdfSha256"]

    await _activate(world, contract, completed)
    active = await world.contract(cid)
    assert active["status"] == "active"
    assert active["activatedAt"]
    assert isinstance(active["ledgerEntryId"], int)

    listed = await world.fleet.client("signature").get(
        f"/v1/signatures/contracts/{cid}", headers=contractor.headers
    )
    assert listed.status_code == 200
    assert [(s["id"], s["ledgerReceipt"]) for s in listed.json()["items"]] == [
        (first["id"], first["ledgerReceipt"]),
        (second["id"], second["ledgerReceipt"]),
    ]
    again = await world.sign(client, cid)
    world.problem(again, 409, "contract-not-signable")


async def test_signatures_are_listed_for_parties_and_admins(world: Parties) -> None:
    client, contractor, contract = await world.sent()
    cid = contract["id"]
    assert (await world.sign(client, cid)).status_code == 201
    signature_api = world.fleet.client("signature")
    path = f"/v1/signatures/contracts/{cid}"
    for headers in (client.headers, contractor.headers, world.headers(uuid.uuid4().hex, "admin")):
        listed = await signature_api.get(path, headers=headers)
        assert listed.status_code == 200, listed.text
        [only] = listed.json()["items"]
        assert (only["signerRole"], only["signatureName"]) == ("client", "Ada Owner")
        assert listed.json()["nextCursor"] is None
    other_client, other_contractor = await world.pair()
    for headers in (other_client.headers, other_contractor.headers):
        world.problem(await signature_api.get(path, headers=headers), 404, "contract-not-found")
    world.problem(
        await signature_api.get(
            f"/v1/signatures/contracts/{uuid.uuid4().hex}", headers=client.headers
        ),
        404,
        "contract-not-found",
    )
