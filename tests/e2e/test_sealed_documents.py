"""Issue 16's sealed PDFs, through the public edge only: a contract signed by
both parties, its final PDF downloaded as a party would, then uploaded to
the verify route with no account (as anyone holding the file would); one
byte changed, it is neither ours nor intact; the route's per-address limit
holds. The seal itself is checked by pyhanko in ``services/signature``."""

from __future__ import annotations

import hashlib
import uuid

import httpx

from mindlinks_dev.demo import Person, Story, contract_draft, expect
from mindlinks_ledger import merkle

VERIFY = "/v1/signatures/verify"
PDF = {"content-type": "application/pdf"}


def test_anyone_verifies_a_sealed_pdf_and_an_altered_one_is_not_ours(edge: httpx.Client) -> None:
    story = Story(edge, lambda _: None)
    run = uuid.uuid4().hex[:8]
    client = Person(f"owner-{run}@seal.example", "Sam Sealer", "client")
    contractor = Person(f"dev-{run}@seal.example", "Dana Developer", "contractor")
    story.sign_up(client)
    story.register_company(client)
    contractor_id = story.onboard_contractor(client, contractor)
    contract_id, _ = story.activate(client, contractor, contract_draft(contractor_id), run)

    link = expect(
        edge.get(f"/v1/contracts/{contract_id}/pdf", params={"kind": "final"}, headers=client.auth),
        200,
    )
    final = httpx.get(link["url"], timeout=10).content
    assert hashlib.sha256(final).hexdigest() == link["sha256"]

    # No Authorization header: anyone holding the PDF.
    verdict = expect(edge.post(VERIFY, content=final, headers=PDF), 200)
    assert (verdict["ours"], verdict["intact"], verdict["contractId"]) == (True, True, contract_id)
    assert verdict["seal"]["trusted"] is True
    assert verdict["seal"]["timestamp"]["valid"] is True
    signers = [(s["role"], s["signatureName"]) for s in verdict["signatures"]]
    assert signers == [("client", "Sam Sealer"), ("contractor", "Dana Developer")]
    for signature in verdict["signatures"]:
        proof = signature["inclusionProof"]
        assert proof["entryHash"] == signature["ledgerEntryHash"]
        assert merkle.verify_inclusion(
            merkle.leaf_hash(bytes.fromhex(proof["entryHash"])),
            proof["leafIndex"],
            proof["treeSize"],
            [bytes.fromhex(h) for h in proof["auditPath"]],
            bytes.fromhex(proof["rootHash"]),
        )

    altered = bytearray(final)
    altered[len(altered) // 3] ^= 0x01
    refused = expect(edge.post(VERIFY, content=bytes(altered), headers=PDF), 200)
    assert (refused["ours"], refused["intact"], refused["contractId"]) == (False, False, None)
    assert (refused["seal"], refused["signatures"]) == (None, [])

    # The route's own limit, per address (10 a minute by default), well below
    # the edge's. 21 uploads span at most two fixed windows, so one sees 11.
    statuses = []
    for _ in range(21):
        limited = edge.post(VERIFY, content=b"%PDF-1.7\n", headers=PDF)
        statuses.append(limited.status_code)
        if limited.status_code != 200:
            break
    assert statuses[-1] == 429, statuses
    assert limited.json()["code"] == "too-many-verifications"
    assert int(limited.headers["retry-after"]) >= 1
