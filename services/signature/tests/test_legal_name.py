"""Security issue #9 item 3: a contract names the contractor by the legal name
KYC verified — in its stored parties, its PDF, the certificate of completion
and the ledger's entries — whatever the contractor does to their profile."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

import pytest
from pypdf import PdfReader

from mindlinks_dev.harness import installed_services
from mindlinks_dev.parties import REAL_PEERS

if TYPE_CHECKING:
    from conftest import Parties

pytestmark = pytest.mark.skipif(
    not (REAL_PEERS and "ledger" in installed_services()),
    reason="needs the real contractor and ledger services",
)


def words(pdf: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )


async def test_a_rename_after_verification_never_reaches_a_contract(world: Parties) -> None:
    client, contractor = await world.pair()  # verified as "Grace Hopper"
    renamed = await world.edit_profile(contractor, name="Mallory Mallet")
    world.problem(renamed, 409, "legal-name-locked")
    shown = await world.edit_profile(contractor, displayName="Mallory Mallet")
    assert shown.status_code == 200, shown.text
    assert (shown.json()["displayName"], shown.json()["verifiedLegalName"]) == (
        "Mallory Mallet",
        "Grace Hopper",
    )

    contract = await world.draft(client, contractor)
    cid = contract["id"]
    assert contract["contractorName"] == "Grace Hopper"
    assert (await world.contract(cid))["contractorName"] == "Grace Hopper"
    original = words(await world.document(cid))
    assert "Grace Hopper" in original
    assert "Mallory" not in original

    sent = await world.fleet.client("contract").post(
        f"/v1/contracts/{cid}/send", headers=client.headers
    )
    assert sent.status_code == 200, sent.text
    assert (await world.sign(client, cid)).status_code == 201
    # The typed signature is the signer's own words; the party is named by KYC.
    signed = await world.sign(contractor, cid, signatureName="Mallory Mallet")
    assert signed.status_code == 201, signed.text

    certificate = words(await world.document(cid, "final"))
    assert f"Between {client.legal_name} and Grace Hopper." in certificate

    entries = await world.ledger_entries(cid)
    names = {e["data"]["signerRole"]: e["data"]["partyName"] for e in entries}
    assert names == {"client": client.legal_name, "contractor": "Grace Hopper"}

    await world.fleet.deliver()  # signature.completed → the ledger activates
    journal = await world.fleet.client("ledger").get(
        f"/internal/ledger/subjects/{cid}", headers=world.fleet.service_bearer("admin")
    )
    assert journal.status_code == 200, journal.text
    items = journal.json()["items"]
    [activation] = [e for e in items if e["kind"] == "contract-activated"]
    assert activation["data"]["partyNames"] == {
        "client": client.legal_name,
        "contractor": "Grace Hopper",
    }
    for entry in items:  # nothing but the typed signature carries the other name
        recorded = {k: v for k, v in entry["data"].items() if k != "signatureName"}
        assert "Mallory" not in json.dumps(recorded)
