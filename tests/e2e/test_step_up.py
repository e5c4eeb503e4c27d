"""Issue 16, signer step-up, through the public edge only: nobody signs
without a fresh one-time code; the client confirms one mailed to them, the
contractor one from their authenticator app; the method and time are on the
signature, in its ledger entry and on the certificate of completion; a
step-up token is no access token, and an access token is no step-up token."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
from pypdf import PdfReader

from mindlinks_dev import totp
from mindlinks_dev.demo import Person, Story, contract_draft, expect, until

PROBLEM = "application/problem+json"


def _sign(edge: httpx.Client, person: Person, cid: str, token: str | None) -> httpx.Response:
    body: dict[str, Any] = {"consent": True, "signatureName": person.name}
    if token is not None:
        body["stepUpToken"] = token
    return edge.post(f"/v1/signatures/contracts/{cid}/sign", headers=person.auth, json=body)


def _step_up_required(response: httpx.Response, cid: str) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "step-up-required", body
    assert body["stepUp"]["purpose"] == f"contract-sign:{cid}"
    assert "insufficient_user_authentication" in response.headers["www-authenticate"]


def _certificate(edge: httpx.Client, cid: str, person: Person) -> str:
    link = expect(
        edge.get(f"/v1/contracts/{cid}/pdf", params={"kind": "final"}, headers=person.auth), 200
    )
    page = PdfReader(io.BytesIO(httpx.get(link["url"], timeout=10).content)).pages[-1]
    return " ".join(page.extract_text().split())


def test_signers_step_up_by_email_and_by_authenticator_app(edge: httpx.Client) -> None:
    story = Story(edge, lambda _: None)
    run = uuid.uuid4().hex[:8]
    client = Person(f"owner-{run}@acme.example", "Olivia Owner", "client")
    contractor = Person(f"dev-{run}@contractor.example", "Dev Contractor", "contractor")
    story.sign_up(client)
    story.register_company(client)
    contractor_id = story.onboard_contractor(client, contractor)
    contract = expect(
        edge.post("/v1/contracts", headers=client.auth, json=contract_draft(contractor_id)), 201
    )
    cid = contract["id"]
    expect(edge.post(f"/v1/contracts/{cid}/send", headers=client.auth), 200)

    # No code, no signature: the answer says where to get one.
    _step_up_required(_sign(edge, client, cid, None), cid)
    # An access token is no step-up token.
    _step_up_required(_sign(edge, client, cid, client.token), cid)

    # The client: a code by email, read from the local mailbox.
    by_mail = story.step_up(client, cid)
    # The contractor cannot borrow the client's proof...
    _step_up_required(_sign(edge, contractor, cid, by_mail), cid)
    # ...and a step-up token opens nothing as a bearer token.
    as_bearer = edge.get("/v1/auth/me", headers={"authorization": f"Bearer {by_mail}"})
    assert as_bearer.status_code == 401, as_bearer.text
    first = expect(_sign(edge, client, cid, by_mail), 201)
    assert first["stepUp"]["method"] == "email"

    # The contractor: the authenticator app's code (TOTP turned on first).
    secret = expect(edge.post("/v1/auth/mfa/setup", headers=contractor.auth), 200)["secret"]
    expect(
        edge.post("/v1/auth/mfa/enable", headers=contractor.auth, json={"code": totp.code(secret)}),
        204,
    )
    challenge = expect(
        edge.post(
            "/v1/auth/step-up/challenges",
            headers=contractor.auth,
            json={"method": "totp", "purpose": f"contract-sign:{cid}"},
        ),
        201,
    )
    assert challenge["method"] == "totp"
    wrong = edge.post(
        "/v1/auth/step-up",
        headers=contractor.auth,
        json={"challengeId": challenge["challengeId"], "code": "12345x"},
    )
    assert wrong.status_code == 422, wrong.text
    granted = expect(
        edge.post(
            "/v1/auth/step-up",
            headers=contractor.auth,
            json={"challengeId": challenge["challengeId"], "code": totp.code(secret)},
        ),
        200,
    )
    second = expect(_sign(edge, contractor, cid, granted["stepUpToken"]), 201)
    assert second["stepUp"] == {"method": "totp", "verifiedAt": granted["verifiedAt"]}
    assert second["contractStatus"] == "fully_signed"

    text = _certificate(edge, cid, contractor)
    assert (
        f"Identity check one-time code by email, confirmed at {first['stepUp']['verifiedAt']}"
    ) in text
    assert (
        "Identity check one-time code from an authenticator app, confirmed at "
        f"{second['stepUp']['verifiedAt']}"
    ) in text

    def journaled() -> dict[str, dict[str, Any]]:
        history = expect(edge.get(f"/v1/ledger/contracts/{cid}/history", headers=client.auth), 200)
        found = {
            e["data"]["signerRole"]: e["data"] for e in history["items"] if e["kind"] == "signature"
        }
        return found if len(found) == 2 else {}

    entries = until(journaled, "both signatures in the ledger")
    assert entries["client"]["stepUp"] == first["stepUp"]
    assert entries["contractor"]["stepUp"] == second["stepUp"]
