"""Security issue #9 item 3, through the public edge only: once KYC verifies a
contractor, their legal name is the verified one. A rename while the provider
checks the document does not survive the verification, a rename afterwards is
refused, the display name stays free, and the contract (stored parties, PDF,
certificate) and the ledger name the contractor by the verified legal name."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import httpx
from pypdf import PdfReader

from mindlinks_dev.demo import Person, Story, expect, until

LEGAL = "Grace Hopper"
ALIAS = "Mallory Mallet"


def _words(pdf: bytes) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def _pdf(edge: httpx.Client, contract_id: str, kind: str, auth: dict[str, str]) -> str:
    link = expect(
        edge.get(f"/v1/contracts/{contract_id}/pdf", params={"kind": kind}, headers=auth), 200
    )
    return _words(httpx.get(link["url"], timeout=10).content)


def _me(edge: httpx.Client, person: Person) -> dict[str, Any]:
    found: dict[str, Any] = expect(edge.get("/v1/contractors/me", headers=person.auth), 200)
    return found


def test_a_verified_legal_name_is_the_one_contracts_and_the_ledger_carry(
    edge: httpx.Client,
) -> None:
    story = Story(edge, lambda _: None)
    run = uuid.uuid4().hex[:8]
    client = Person(f"owner-{run}@acme.example", "Olivia Owner", "client")
    contractor = Person(f"grace-{run}@contractor.example", LEGAL, "contractor")
    story.sign_up(client)
    company = story.register_company(client)
    expect(
        edge.post(
            "/v1/clients/invite-contractor",
            headers=client.auth,
            json={"email": contractor.email, "name": LEGAL},
        ),
        201,
    )
    token = story.mail(contractor.email, "client.invitation")["data"]["token"]
    story.sign_up(contractor)
    accepted = expect(
        edge.post(
            "/v1/contractors/accept-invitation", headers=contractor.auth, json={"token": token}
        ),
        200,
    )
    contractor_id = accepted["contractorId"]

    # KYC opens with the legal name; a rename while the provider checks the
    # document is allowed (nothing is verified yet) but does not get verified.
    session = expect(edge.post("/v1/kyc/sessions", headers=contractor.auth), 201)
    pending = _me(edge, contractor)
    expect(
        edge.patch(
            "/v1/contractors/me",
            headers=contractor.auth,
            json={"name": ALIAS, "version": pending["version"]},
        ),
        200,
    )
    expect(
        edge.post(
            f"/v1/kyc/dev/sessions/{session['id']}/decide",
            headers=contractor.auth,
            json={"decision": "approved"},
        ),
        202,
    )
    verified = until(
        lambda: (lambda me: me if me["kycStatus"] == "verified" else None)(_me(edge, contractor)),
        "the contractor's KYC to be verified",
    )
    assert (verified["name"], verified["verifiedLegalName"]) == (LEGAL, LEGAL)
    kyc = expect(edge.get("/v1/kyc/me", headers=contractor.auth), 200)
    assert kyc["session"]["verifiedLegalName"] == LEGAL

    # After verification: the legal name is locked, the display name is free.
    refused = edge.patch(
        "/v1/contractors/me",
        headers=contractor.auth,
        json={"name": ALIAS, "version": verified["version"]},
    )
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert (problem["code"], problem["status"]) == ("legal-name-locked", 409)
    assert problem["type"].endswith("/legal-name-locked")
    assert "new identity verification" in problem["detail"]
    shown = expect(
        edge.patch(
            "/v1/contractors/me",
            headers=contractor.auth,
            json={"displayName": ALIAS, "version": verified["version"]},
        ),
        200,
    )
    assert (shown["name"], shown["displayName"], shown["verifiedLegalName"]) == (
        LEGAL,
        ALIAS,
        LEGAL,
    )
    seen = expect(edge.get(f"/v1/contractors/{contractor_id}", headers=client.auth), 200)
    assert (seen["name"], seen["verifiedLegalName"]) == (LEGAL, LEGAL)

    contract = expect(
        edge.post(
            "/v1/contracts",
            headers=client.auth,
            json={
                "contractorId": contractor_id,
                "title": "Compiler work",
                "description": "Write the first compiler.",
                "currency": "EUR",
                "startDate": "2027-01-04",
                "terms": {"kind": "fixed", "amountMinor": 250000, "dueDate": "2027-03-01"},
            },
        ),
        201,
    )
    cid = contract["id"]
    assert contract["contractorName"] == LEGAL
    original = _pdf(edge, cid, "original", client.auth)
    assert LEGAL in original
    assert ALIAS not in original

    expect(edge.post(f"/v1/contracts/{cid}/send", headers=client.auth), 200)
    for signer, typed in ((client, client.name), (contractor, ALIAS)):
        expect(
            edge.post(
                f"/v1/signatures/contracts/{cid}/sign",
                headers=signer.auth,
                json={
                    "consent": True,
                    "signatureName": typed,
                    "stepUpToken": story.step_up(signer, cid),
                },
            ),
            201,
        )
    certificate = _pdf(edge, cid, "final", contractor.auth)
    assert f"Between {company['legalName']} and {LEGAL}." in certificate

    def activated() -> list[dict[str, Any]]:
        history = expect(
            edge.get(f"/v1/ledger/contracts/{cid}/history", headers=contractor.auth), 200
        )
        items: list[dict[str, Any]] = history["items"]
        return items if any(e["kind"] == "contract-activated" for e in items) else []

    entries = until(activated, "the ledger to activate the contract")
    signatures = {e["data"]["signerRole"]: e["data"] for e in entries if e["kind"] == "signature"}
    assert signatures["contractor"]["partyName"] == LEGAL
    assert signatures["client"]["partyName"] == company["legalName"]
    [activation] = [e for e in entries if e["kind"] == "contract-activated"]
    assert activation["data"]["partyNames"] == {
        "client": company["legalName"],
        "contractor": LEGAL,
    }
    for entry in entries:  # only the typed signature carries the other name
        recorded = {k: v for k, v in entry["data"].items() if k != "signatureName"}
        assert ALIAS not in json.dumps(recorded)
