"""The release's invoice through the edge: issued because ``payment.released``
flowed back to payment, billed to the company the client service registered,
downloaded by both parties as the same bytes, whose SHA-256 the invoice
carries; nobody else reads it."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx

from mindlinks_dev.demo import Person, Story, expect, until


def test_both_parties_download_the_releases_invoice(edge: httpx.Client) -> None:
    story = Story(edge, lambda _: None)
    facts = story.run()
    client: Person = facts["client"]
    contractor: Person = facts["contractor"]
    escrow_id = facts["released"]["id"]

    def issued() -> list[dict[str, Any]]:
        found = expect(edge.get("/v1/payments/invoices", headers=client.auth), 200)
        return [i for i in found["items"] if i["escrowId"] == escrow_id]

    (invoice,) = until(issued, "the release's invoice")
    assert invoice["number"] == "INV-000001"  # the story's contractor is new
    assert invoice["contractId"] == facts["contractId"]
    assert invoice["amountMinor"] == facts["schedule"][0]["amountMinor"]
    assert invoice["issuer"]["contractorId"] == facts["contractorId"]
    company = expect(edge.get("/v1/clients/me", headers=client.auth), 200)
    assert invoice["recipient"]["companyId"] == company["id"]
    assert invoice["recipient"]["legalName"] == company["legalName"]
    assert invoice["recipient"]["companyNumber"] == company["companyNumber"]

    for party in (client, contractor):
        pdf = edge.get(f"/v1/payments/invoices/{invoice['id']}/pdf", headers=party.auth)
        assert pdf.status_code == 200, pdf.text
        assert pdf.headers["content-type"] == "application/pdf"
        assert hashlib.sha256(pdf.content).hexdigest() == invoice["pdfSha256"]

    stranger = Person(f"stranger-{uuid.uuid4().hex[:8]}@contractor.example", "Sam", "contractor")
    story.sign_up(stranger)
    refused = edge.get(f"/v1/payments/invoices/{invoice['id']}", headers=stranger.auth)
    assert refused.status_code == 404, refused.text
    assert expect(edge.get("/v1/payments/invoices", headers=stranger.auth), 200)["items"] == []
