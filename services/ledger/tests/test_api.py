"""Public routes: history, digest, proofs, exports, verification — and who may
call them (parties of the contract and admins; anyone else gets 404)."""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev.harness import Running
from mindlinks_dev.problem import NOT_A_JWT, needs_a_user_token
from mindlinks_ledger import merkle

if TYPE_CHECKING:
    from conftest import Contract, Ledger


@pytest.fixture(scope="module")
async def activated(ledger: Ledger) -> Contract:
    contract, _, _ = await ledger.activate()
    return contract


def as_party(ledger: Ledger, contract: Contract, who: str) -> dict[str, str]:
    if who == "client":
        return ledger.user(contract.client_user_id, "client")
    if who == "contractor":
        return ledger.user(contract.contractor_user_id, "contractor")
    return ledger.admin()


@pytest.mark.parametrize("who", ["client", "contractor", "admin"])
async def test_parties_and_admins_read_the_history(
    ledger: Ledger, activated: Contract, who: str
) -> None:
    response = await ledger.client.get(
        f"/v1/ledger/contracts/{activated.id}/history", headers=as_party(ledger, activated, who)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [e["kind"] for e in body["items"]] == [
        "signature",
        "signature",
        "contract-activated",
        "payment-scheduled",
    ]
    assert body["nextCursor"] is None
    assert set(body["items"][0]) == {
        "seq",
        "kind",
        "subject",
        "data",
        "recordedAt",
        "idempotencyKey",
        "contentHash",
        "prevHash",
        "entryHash",
    }


async def test_history_pages_with_cursors_bound_to_the_caller(
    ledger: Ledger, activated: Contract
) -> None:
    client = as_party(ledger, activated, "client")
    path = f"/v1/ledger/contracts/{activated.id}/history"
    first = await ledger.client.get(path, params={"limit": 3}, headers=client)
    cursor = first.json()["nextCursor"]
    assert len(first.json()["items"]) == 3
    rest = await ledger.client.get(path, params={"cursor": cursor}, headers=client)
    assert [e["kind"] for e in rest.json()["items"]] == ["payment-scheduled"]
    contractor = as_party(ledger, activated, "contractor")
    stolen = await ledger.client.get(path, params={"cursor": cursor}, headers=contractor)
    ledger.problem(stolen, 422, "invalid-cursor")
    for params in ({"limit": 0}, {"limit": 101}, {"cursor": "!!"}):
        response = await ledger.client.get(path, params=params, headers=client)
        assert response.status_code == 422, params


async def test_strangers_learn_nothing_about_a_contract(
    ledger: Ledger, activated: Contract
) -> None:
    stranger = ledger.user(uuid.uuid4().hex, "client")
    other_contractor = ledger.user(uuid.uuid4().hex, "contractor")
    seq = activated.signature_seqs[0]
    for headers in (stranger, other_contractor):
        foreign = await ledger.client.get(
            f"/v1/ledger/contracts/{activated.id}/history", headers=headers
        )
        ledger.problem(foreign, 404, "not-found")
        unknown = await ledger.client.get("/v1/ledger/contracts/c-unknown/history", headers=headers)
        assert unknown.json() == {**foreign.json(), "instance": unknown.json()["instance"]}
        for path in (f"/v1/ledger/entries/{seq}/proof", f"/v1/ledger/entries/{seq}/export"):
            ledger.problem(await ledger.client.get(path, headers=headers), 404, "not-found")
        verify = await ledger.client.post(
            "/v1/ledger/verify",
            json={"contractId": activated.id, "pdfSha256": activated.pdf_sha256},
            headers=headers,
        )
        ledger.problem(verify, 404, "not-found")
    admin = ledger.admin()
    ledger.problem(
        await ledger.client.get("/v1/ledger/contracts/c-unknown/history", headers=admin),
        404,
        "not-found",
    )
    ledger.problem(
        await ledger.client.get("/v1/ledger/entries/999999999/proof", headers=admin),
        404,
        "not-found",
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/ledger/contracts/c-1/history"),
        ("GET", "/v1/ledger/digest"),
        ("GET", "/v1/ledger/digests/latest"),
        ("GET", "/v1/ledger/entries/1/proof"),
        ("GET", "/v1/ledger/entries/1/export"),
        ("GET", "/v1/ledger/consistency?first=1&second=1"),
        ("POST", "/v1/ledger/verify"),
    ],
)
async def test_public_routes_need_a_user_token(ledger: Ledger, method: str, path: str) -> None:
    body = {"contractId": "c-1", "pdfSha256": "0" * 64} if method == "POST" else None
    await needs_a_user_token(
        ledger.client, method, path, ledger.service("admin"), NOT_A_JWT, json=body
    )


async def test_the_digest_is_the_merkle_root_of_every_entry(ledger: Ledger) -> None:
    await ledger.append()
    response = await ledger.client.get("/v1/ledger/digest", headers=ledger.user("u", "contractor"))
    assert response.status_code == 200, response.text
    digest = response.json()
    assert set(digest) == {"treeSize", "rootHash", "tipSeq", "tipHash", "issuedAt"}
    assert digest["treeSize"] == digest["tipSeq"] >= 1
    export = await ledger.client.get(
        "/internal/ledger/entries",
        params={"limit": 1000},
        headers=ledger.service("admin"),
    )
    entries = [e for e in export.json()["items"] if e["seq"] <= digest["treeSize"]]
    leaves = [merkle.leaf_hash(bytes.fromhex(e["entryHash"])) for e in entries]
    assert merkle.root(leaves).hex() == digest["rootHash"]
    assert entries[-1]["entryHash"] == digest["tipHash"]


async def test_a_proof_verifies_against_the_digest(ledger: Ledger, activated: Contract) -> None:
    seq = activated.signature_seqs[1]
    headers = as_party(ledger, activated, "contractor")
    response = await ledger.client.get(f"/v1/ledger/entries/{seq}/proof", headers=headers)
    assert response.status_code == 200, response.text
    proof = response.json()
    assert proof["leafIndex"] == seq - 1
    assert proof["entry"]["seq"] == seq
    leaf = merkle.leaf_hash(bytes.fromhex(proof["entry"]["entryHash"]))
    path = [bytes.fromhex(h) for h in proof["auditPath"]]
    root = bytes.fromhex(proof["rootHash"])
    assert merkle.verify_inclusion(leaf, seq - 1, proof["treeSize"], path, root)

    # A proof against an older tree size, as an auditor's older digest needs.
    older = await ledger.client.get(
        f"/v1/ledger/entries/{seq}/proof", params={"treeSize": seq}, headers=headers
    )
    assert older.json()["treeSize"] == seq
    assert not older.json()["auditPath"] or older.json()["rootHash"] != proof["rootHash"]
    for size in (seq - 1, 10**12, 0, "x"):
        bad = await ledger.client.get(
            f"/v1/ledger/entries/{seq}/proof", params={"treeSize": size}, headers=headers
        )
        assert bad.status_code == 422, size
        assert bad.headers["content-type"] == "application/problem+json"
    for bad_seq in ("0", "-1", "abc"):
        response = await ledger.client.get(f"/v1/ledger/entries/{bad_seq}/proof", headers=headers)
        ledger.problem(response, 422, "invalid-input")


async def test_consistency_between_two_tree_sizes(ledger: Ledger) -> None:
    await ledger.append()
    headers = ledger.user(uuid.uuid4().hex, "client")
    digest = (await ledger.client.get("/v1/ledger/digest", headers=headers)).json()
    second = digest["treeSize"]
    response = await ledger.client.get(
        "/v1/ledger/consistency", params={"first": 3, "second": second}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["secondRoot"] == digest["rootHash"]
    assert merkle.verify_consistency(
        3,
        second,
        bytes.fromhex(body["firstRoot"]),
        bytes.fromhex(body["secondRoot"]),
        [bytes.fromhex(h) for h in body["consistencyPath"]],
    )
    too_far = await ledger.client.get(
        "/v1/ledger/consistency", params={"first": 3, "second": second + 10**6}, headers=headers
    )
    ledger.problem(too_far, 422, "tree-size-out-of-range")
    backwards = await ledger.client.get(
        "/v1/ledger/consistency", params={"first": 5, "second": 4}, headers=headers
    )
    ledger.problem(backwards, 422, "tree-size-out-of-range")


async def test_an_export_verifies_and_a_changed_one_does_not(
    ledger: Ledger, activated: Contract
) -> None:
    seq = activated.signature_seqs[0]
    headers = as_party(ledger, activated, "client")
    export = (await ledger.client.get(f"/v1/ledger/entries/{seq}/export", headers=headers)).json()
    assert set(export) == {"entry", "proof", "digest", "anchor"}
    verified = await ledger.client.post("/v1/ledger/verify", json=export, headers=headers)
    assert verified.status_code == 200, verified.text
    assert verified.json()["intact"] is True, verified.json()
    names = {c["name"] for c in verified.json()["checks"]}
    assert {"content-hash", "entry-hash", "leaf-index", "digest", "inclusion", "journal"} <= names

    def changed(part: str, field: str, value: Any) -> dict[str, Any]:
        return {**export, part: {**export[part], field: value}}

    tampered = [
        changed("entry", "data", {**export["entry"]["data"], "signerRole": "admin"}),
        changed("entry", "entryHash", "a" * 64),
        changed("proof", "leafIndex", export["proof"]["leafIndex"] + 1),
        changed("proof", "auditPath", ["b" * 64, *export["proof"]["auditPath"][1:]]),
        changed("digest", "rootHash", "c" * 64),
        changed("digest", "treeSize", export["digest"]["treeSize"] + 1),
    ]
    for body in tampered:
        response = await ledger.client.post("/v1/ledger/verify", json=body, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["intact"] is False, body
    # Only whoever may see the entry: others check it offline with the CLI.
    stranger = ledger.user(uuid.uuid4().hex, "contractor")
    again = await ledger.client.post("/v1/ledger/verify", json=export, headers=stranger)
    ledger.problem(again, 404, "not-found")
    admin = await ledger.client.post("/v1/ledger/verify", json=export, headers=ledger.admin())
    assert admin.json()["intact"] is True


async def test_a_pdf_is_checked_against_the_contracts_entries(
    ledger: Ledger, activated: Contract
) -> None:
    headers = as_party(ledger, activated, "contractor")
    signed = await ledger.client.post(
        "/v1/ledger/verify",
        json={"contractId": activated.id, "pdfSha256": activated.pdf_sha256},
        headers=headers,
    )
    assert signed.status_code == 200, signed.text
    body = signed.json()
    assert body["intact"] is True, body
    assert body["pdfSha256"] == activated.pdf_sha256
    assert {(m["kind"], m["field"]) for m in body["matches"]} == {
        ("signature", "pdfSha256"),
        ("contract-activated", "pdfSha256"),
    }
    final = await ledger.client.post(
        "/v1/ledger/verify",
        json={"contractId": activated.id, "pdfSha256": activated.final_pdf_sha256},
        headers=headers,
    )
    assert [(m["kind"], m["field"]) for m in final.json()["matches"]] == [
        ("contract-activated", "finalPdfSha256")
    ]
    pdf = b"%PDF-1.7 not the signed one"
    other = await ledger.client.post(
        "/v1/ledger/verify",
        json={"contractId": activated.id, "pdfBase64": base64.b64encode(pdf).decode()},
        headers=headers,
    )
    assert other.json()["intact"] is False
    assert other.json()["matches"] == []
    checks = {c["name"]: c["ok"] for c in other.json()["checks"]}
    assert checks == {"pdf": False, "entries": True, "journal": True}


async def test_a_pdf_upload_is_hashed(fleet: Running, ledger: Ledger) -> None:
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 10
    contract = await ledger.add_contract()
    contract.body["pdfSha256"] = hashlib.sha256(pdf).hexdigest()
    await ledger.store_contract(contract)
    await ledger.sign(contract)
    response = await ledger.client.post(
        "/v1/ledger/verify",
        json={"contractId": contract.id, "pdfBase64": base64.b64encode(pdf).decode()},
        headers=as_party(ledger, contract, "client"),
    )
    assert response.json()["intact"] is True, response.json()
    assert len(response.json()["matches"]) == 2


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"contractId": "c-1"},
        {"contractId": "c-1", "pdfSha256": "0" * 64, "pdfBase64": "AA=="},
        {"contractId": "c-1", "pdfSha256": "XYZ"},
        {"pdfSha256": "0" * 64},
        {"entry": {"seq": 1}},
        {"entry": "garbage", "proof": [], "digest": None},
        {"entry": {}, "proof": {}, "digest": {}},
        {
            "entry": {
                "seq": True,
                "kind": "k",
                "subject": "s",
                "data": {},
                "recordedAt": "t",
                "contentHash": "0" * 64,
                "prevHash": "0" * 64,
                "entryHash": "0" * 64,
            },
            "proof": {"leafIndex": 0, "treeSize": 1, "auditPath": [], "rootHash": "0" * 64},
            "digest": {
                "treeSize": 1,
                "rootHash": "0" * 64,
                "tipSeq": 1,
                "tipHash": "0" * 64,
                "issuedAt": "t",
            },
        },
        [],
        "not even an object",
    ],
)
async def test_garbage_is_a_422_never_a_500(ledger: Ledger, body: Any) -> None:
    response = await ledger.client.post(
        "/v1/ledger/verify", json=body, headers=ledger.user(uuid.uuid4().hex)
    )
    ledger.problem(response, 422, "invalid-input")


async def test_bad_base64_is_a_422(ledger: Ledger, activated: Contract) -> None:
    response = await ledger.client.post(
        "/v1/ledger/verify",
        json={"contractId": activated.id, "pdfBase64": "@@not base64@@"},
        headers=as_party(ledger, activated, "client"),
    )
    ledger.problem(response, 422, "invalid-pdf")


async def test_an_unparseable_body_is_a_422(ledger: Ledger) -> None:
    response = await ledger.client.post(
        "/v1/ledger/verify",
        content=b"{not json",
        headers={**ledger.user(uuid.uuid4().hex), "content-type": "application/json"},
    )
    ledger.problem(response, 422, "invalid-input")


def test_an_export_may_write_its_integers_with_a_zero_fraction() -> None:
    """JSON Schema's ``integer`` admits ``3.0`` (``make fuzz`` found a schema-valid
    export refused); ``"3"``, ``true`` and ``2.5`` stay refused."""
    import pydantic

    from mindlinks_ledger.verification import ProofDoc

    proof = {"auditPath": [], "rootHash": "0" * 64}
    taken = ProofDoc.model_validate({**proof, "leafIndex": 2.0, "treeSize": 3.0})
    assert (taken.leaf_index, taken.tree_size) == (2, 3)
    for bad in ("3", True, 2.5):
        with pytest.raises(pydantic.ValidationError):
            ProofDoc.model_validate({**proof, "leafIndex": bad, "treeSize": 3})
