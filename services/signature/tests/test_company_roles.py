"""Who signs for the client company: its owners and admins (``contracts.sign``),
whoever drafted the contract. The signature records the signer's company and
role there, in the ledger entry (whose hash chain still verifies) and on the
certificate of completion; every member reads the signatures."""

from __future__ import annotations

import io
import uuid
from typing import TYPE_CHECKING

import pytest
from pypdf import PdfReader

from mindlinks_fleet.teams import COMPANY_HEADER, PERMISSIONS, CompanyRole

if TYPE_CHECKING:
    from conftest import Parties

SIGNERS = [r.value for r in PERMISSIONS["contracts.sign"]]
NOT_SIGNERS = [r.value for r in CompanyRole if r.value not in SIGNERS]


@pytest.mark.parametrize("role", NOT_SIGNERS)
async def test_managers_finance_and_viewers_neither_sign_nor_decline(
    world: Parties, role: str
) -> None:
    client, _, contract = await world.sent()
    member = await world.member(client, role)
    signed = await world.sign(member, contract["id"])
    problem = world.problem(signed, 403, "company-role-not-allowed")
    assert problem["detail"] == f"contracts.sign needs the role owner or admin; yours is {role}"
    declined = await world.fleet.client("signature").post(
        f"/v1/signatures/contracts/{contract['id']}/decline",
        headers=member.headers,
        json={"reason": "no"},
    )
    world.problem(declined, 403, "company-role-not-allowed")
    assert (await world.contract(contract["id"]))["status"] == "sent_for_signature"
    assert await world.ledger_entries(contract["id"]) == []
    # Yet they read the company's signatures.
    listed = await world.fleet.client("signature").get(
        f"/v1/signatures/contracts/{contract['id']}", headers=member.headers
    )
    assert listed.status_code == 200, listed.text


async def test_an_admin_signs_for_the_company_and_the_record_says_so(world: Parties) -> None:
    client, contractor, contract = await world.sent()
    cid = contract["id"]
    admin = await world.member(client, "admin")
    signed = await world.sign(admin, cid, signatureName="Alan Admin")
    assert signed.status_code == 201, signed.text
    body = signed.json()
    assert (body["signerUserId"], body["signerCompanyId"], body["signerCompanyRole"]) == (
        admin.user_id,
        client.company_id,
        "admin",
    )
    assert body["contractStatus"] == "client_signed"
    [entry] = await world.ledger_entries(cid)
    assert {k: entry["data"][k] for k in ("signerUserId", "companyId", "companyRole")} == {
        "signerUserId": admin.user_id,
        "companyId": client.company_id,
        "companyRole": "admin",
    }
    # The owner may not sign again for the company: the company has signed.
    world.problem(await world.sign(client, cid), 409, "already-signed")

    done = await world.sign(contractor, cid)
    assert done.status_code == 201, done.text
    assert done.json()["signerCompanyId"] is None  # the contractor signs for themself
    final = PdfReader(io.BytesIO(await world.document(cid, "final")))
    certificate = " ".join(final.pages[-1].extract_text().split())
    assert f"signed for {client.legal_name} by Alan Admin (admin)" in certificate
    assert admin.user_id in certificate

    if "ledger" in world.fleet.apps:  # the real ledger: its hash chain still holds
        verified = await world.fleet.client("ledger").get(
            "/internal/ledger/verify", headers=world.fleet.service_bearer("admin")
        )
        assert verified.status_code == 200, verified.text
        assert verified.json()["ok"] is True, verified.json()


async def test_signing_for_one_of_two_companies_needs_the_header(world: Parties) -> None:
    client, _, contract = await world.sent()
    other = await world.client()
    both = await world.member(client, "admin", user_id=other.user_id)
    cid = contract["id"]
    world.problem(await world.sign(both, cid), 400, "company-header-required")
    as_other = {COMPANY_HEADER: other.company_id}
    world.problem(await world.sign(both, cid, headers=as_other), 404, "contract-not-found")
    unknown = {COMPANY_HEADER: uuid.uuid4().hex}
    world.problem(await world.sign(both, cid, headers=unknown), 404, "company-not-found")
    signed = await world.sign(both, cid, headers={COMPANY_HEADER: client.company_id})
    assert signed.status_code == 201, signed.text
    assert (signed.json()["signerCompanyId"], signed.json()["signerCompanyRole"]) == (
        client.company_id,
        "admin",
    )


async def test_a_member_of_another_company_neither_signs_nor_reads(world: Parties) -> None:
    _, _, contract = await world.sent()
    other = await world.client()
    outsider = await world.member(other, "admin")
    for stranger in (other, outsider):
        world.problem(await world.sign(stranger, contract["id"]), 404, "contract-not-found")
        listed = await world.fleet.client("signature").get(
            f"/v1/signatures/contracts/{contract['id']}", headers=stranger.headers
        )
        world.problem(listed, 404, "contract-not-found")
