"""The sealed final document, checked by pyhanko's own validator as an
independent party would (the local CA as its only trust root), and the
public verify-by-upload route."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from asn1crypto import tsp
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from mindlinks_dev.harness import Running

if TYPE_CHECKING:
    from conftest import Parties

VERIFY = "/v1/signatures/verify"
PDF = {"content-type": "application/pdf"}


def _included(proof: dict[str, Any]) -> bool:
    """RFC 9162 §2.1.3.2, written here from the RFC (not the ledger's code):
    the entry hash's leaf, hashed up its audit path, gives the root."""
    leaf = hashlib.sha256(b"\x00" + bytes.fromhex(proof["entryHash"])).digest()
    index, last = proof["leafIndex"], proof["treeSize"] - 1
    if index > last:
        return False
    node = leaf
    for sibling in (bytes.fromhex(h) for h in proof["auditPath"]):
        if last == 0:
            return False
        if index % 2 == 1 or index == last:
            node = hashlib.sha256(b"\x01" + sibling + node).digest()
            while index % 2 == 0 and index != 0:
                index, last = index >> 1, last >> 1
        else:
            node = hashlib.sha256(b"\x01" + node + sibling).digest()
        index, last = index >> 1, last >> 1
    return last == 0 and node.hex() == proof["rootHash"]


async def _completed(world: Parties) -> tuple[dict[str, Any], bytes]:
    """A fully signed contract and its sealed final document."""
    client, contractor, contract = await world.sent()
    assert (await world.sign(client, contract["id"])).status_code == 201
    signed = await world.sign(contractor, contract["id"])
    assert signed.status_code == 201, signed.text
    final = await world.document(contract["id"], "final")
    assert hashlib.sha256(final).hexdigest() == signed.json()["finalPdfSha256"]
    return signed.json(), final


@pytest.fixture(autouse=True)
def unthrottled(world: Parties) -> Iterator[None]:
    """Every test here uploads from the same address: the limit is its own test's."""
    throttle = world.fleet.deps("signature").throttle
    limit, throttle.limit = throttle.limit, 10_000
    yield
    throttle.limit = limit


@pytest.fixture(scope="module")
async def sealed(world: Parties) -> tuple[dict[str, Any], bytes]:
    return await _completed(world)


async def _authority(fleet: Running) -> dict[str, Any]:
    secret = await fleet.runtime("signature").aws.secret("signature/seal-certificates")
    authority: dict[str, Any] = json.loads(secret)
    return authority


async def _pyhanko_verdict(fleet: Running, pdf: bytes) -> Any:
    """pyhanko's validator, trusting the local CA only, fetching nothing."""
    pems = "".join((await _authority(fleet))["trustRoots"]).encode()
    roots = list(load_certs_from_pemder_data(pems))
    reader = PdfFileReader(io.BytesIO(pdf))
    (seal,) = reader.embedded_signatures
    return await async_validate_pdf_signature(
        seal,
        signer_validation_context=ValidationContext(trust_roots=roots, allow_fetching=False),
        ts_validation_context=ValidationContext(trust_roots=roots, allow_fetching=False),
    )


def _one_byte_changed(pdf: bytes) -> bytes:
    """The header's binary comment (line 2), inside the sealed byte range:
    still a readable PDF, no longer the sealed bytes."""
    assert pdf.startswith(b"%PDF-"), pdf[:16]
    assert pdf[9:10] == b"%", pdf[:16]
    changed = bytearray(pdf)
    changed[11] ^= 0x01
    return bytes(changed)


async def test_pyhanko_accepts_the_seal_and_its_time_stamp(
    world: Parties, sealed: tuple[dict[str, Any], bytes]
) -> None:
    signed, final = sealed
    original = await world.document(signed["contractId"])
    assert final.startswith(original[:8])  # the certificate is appended, then sealed
    status = await _pyhanko_verdict(world.fleet, final)
    assert (status.intact, status.valid, status.trusted) == (True, True, True)
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.docmdp_ok is not False
    assert status.bottom_line, status.pretty_print_details()
    stamp = status.timestamp_validity
    assert stamp is not None
    assert (stamp.intact, stamp.valid, stamp.trusted) == (True, True, True)
    assert "time-stamp authority" in stamp.signing_cert.subject.human_friendly
    # Signed by the KMS key: the certificate carries its public key.
    kms = world.fleet.runtime("signature").aws.kms
    alias = world.fleet.runtime("signature").settings.physical("signature-seal")
    public = await kms.get_public_key(KeyId=f"alias/{alias}")
    assert status.signing_cert.public_key.dump() == public["PublicKey"]


async def test_one_byte_changed_fails_pyhanko(
    world: Parties, sealed: tuple[dict[str, Any], bytes]
) -> None:
    status = await _pyhanko_verdict(world.fleet, _one_byte_changed(sealed[1]))
    assert not status.intact
    assert not status.bottom_line


async def test_verify_by_upload_needs_no_account_and_says_what_the_pdf_prints(
    world: Parties, sealed: tuple[dict[str, Any], bytes]
) -> None:
    signed, final = sealed
    answer = await world.fleet.client("signature").post(VERIFY, content=final, headers=PDF)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["ours"], body["intact"], body["contractId"]) == (True, True, signed["contractId"])
    assert body["sha256"] == hashlib.sha256(final).hexdigest()
    seal = body["seal"]
    assert (seal["intact"], seal["valid"], seal["trusted"], seal["coversWholeFile"]) == (
        True,
        True,
        True,
        True,
    )
    assert seal["timestamp"]["valid"] is True
    assert seal["timestamp"]["time"].endswith("Z")
    assert [s["role"] for s in body["signatures"]] == ["client", "contractor"]
    contractor = body["signatures"][1]
    assert contractor["ledgerSeq"] == signed["ledgerReceipt"]["seq"]
    assert contractor["ledgerEntryHash"] == signed["ledgerReceipt"]["entryHash"]
    # Nothing the certificate page does not print: no user agent, no IP,
    # no user or company ids.
    assert set(contractor) == {
        "role",
        "signatureName",
        "partyName",
        "companyRole",
        "signedAt",
        "ledgerSeq",
        "ledgerEntryHash",
        "inclusionProof",
    }
    for signature in body["signatures"]:
        proof = signature["inclusionProof"]
        if "ledger" not in world.fleet.apps:
            continue  # the stand-in ledger keeps no tree
        assert proof["entryHash"] == signature["ledgerEntryHash"]
        assert _included(proof), proof
        assert not _included({**proof, "entryHash": "00" * 32})


async def test_a_token_unlocks_nothing_more(
    world: Parties, sealed: tuple[dict[str, Any], bytes]
) -> None:
    """Signed in or not, a party or a stranger (or an admin): the same answer."""
    signatures = world.fleet.client("signature")
    anonymous = await signatures.post(VERIFY, content=sealed[1], headers=PDF)
    for role in ("client", "contractor", "admin"):
        who = world.fleet.bearer(uuid.uuid4().hex, role)
        seen = await signatures.post(VERIFY, content=sealed[1], headers={**PDF, **who})
        assert seen.status_code == 200, seen.text
        assert seen.json() == anonymous.json()


async def test_an_altered_or_unknown_pdf_reveals_nothing(
    world: Parties, sealed: tuple[dict[str, Any], bytes]
) -> None:
    signatures = world.fleet.client("signature")
    for upload in (_one_byte_changed(sealed[1]), await world.document(sealed[0]["contractId"])):
        answer = await signatures.post(VERIFY, content=upload, headers=PDF)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "ours": False,
            "intact": False,
            "sha256": hashlib.sha256(upload).hexdigest(),
            "contractId": None,
            "amendment": None,
            "seal": None,
            "signatures": [],
        }


async def test_verify_refuses_what_is_not_a_pdf_body(world: Parties) -> None:
    signatures = world.fleet.client("signature")
    as_json = await signatures.post(VERIFY, json={"pdf": "x"})
    assert (as_json.status_code, as_json.json()["code"]) == (415, "pdf-required")
    limit = world.fleet.deps("signature").settings.verify_max_pdf_bytes
    huge = await signatures.post(VERIFY, content=b"%" * (limit + 1), headers=PDF)
    assert (huge.status_code, huge.json()["code"]) == (413, "document-too-large")
    assert huge.headers["content-type"] == "application/problem+json"


async def test_verify_is_limited_per_address(world: Parties) -> None:
    throttle = world.fleet.deps("signature").throttle
    throttle.limit = 3
    signatures = world.fleet.client("signature")
    settings = world.fleet.runtime("signature").settings
    settings.trusted_proxy_hops = 1
    try:
        mine = {**PDF, "x-forwarded-for": "198.51.100.23"}
        for _ in range(throttle.limit):
            ok = await signatures.post(VERIFY, content=b"%PDF-1.4\n", headers=mine)
            assert ok.status_code == 200, ok.text
        refused = await signatures.post(VERIFY, content=b"%PDF-1.4\n", headers=mine)
        assert (refused.status_code, refused.json()["code"]) == (429, "too-many-verifications")
        assert int(refused.headers["retry-after"]) >= 1
        other = {**PDF, "x-forwarded-for": "198.51.100.24"}
        assert (await signatures.post(VERIFY, content=b"%PDF", headers=other)).status_code == 200
    finally:
        settings.trusted_proxy_hops = 0


async def test_the_local_time_stamp_authority_speaks_rfc_3161(world: Parties) -> None:
    signatures = world.fleet.client("signature")
    query = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": hashlib.sha256(b"sealed").digest(),
            },
            "nonce": 7,
            "cert_req": True,
        }
    )
    reply = await signatures.post(
        "/v1/signatures/dev/timestamps",
        content=query.dump(),
        headers={"content-type": "application/timestamp-query"},
    )
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/timestamp-reply"
    answer = tsp.TimeStampResp.load(reply.content)
    assert answer["status"]["status"].native == "granted"
    info = answer["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["nonce"].native == 7
    assert info["message_imprint"]["hashed_message"].native == hashlib.sha256(b"sealed").digest()
    bad = await signatures.post(
        "/v1/signatures/dev/timestamps",
        content=b"not der",
        headers={"content-type": "application/timestamp-query"},
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "bad-timestamp-query")


async def test_a_time_stamp_authority_that_fails_leaves_the_signing_to_retry(
    world: Parties,
) -> None:
    """The seal needs the TSA: without it the contractor's signing answers
    503 and stays pending; the same request again completes it."""
    client, contractor, contract = await world.sent()
    assert (await world.sign(client, contract["id"])).status_code == 201
    timestamps = world.fleet.deps("signature").sealer.timestamps
    working = timestamps.http
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(lambda request: httpx.Response(502))
    ) as broken:
        timestamps.http = broken
        try:
            down = await world.sign(contractor, contract["id"])
        finally:
            timestamps.http = working
    assert (down.status_code, down.json()["code"]) == (503, "seal-unavailable")
    assert (await world.contract(contract["id"]))["status"] == "client_signed"
    again = await world.sign(contractor, contract["id"])
    assert again.status_code == 201, again.text
    assert again.json()["contractStatus"] == "fully_signed"


async def test_many_seals_at_once_do_not_starve_the_time_stamp_authority(
    world: Parties, sealed: tuple[dict[str, Any], bytes]
) -> None:
    """More seals at once than the loop's default executor has threads (six on
    two cores): each waits on the loop for KMS and the TSA, whose local reply
    runs on that executor. Seals on the default executor filled it and waited
    on each other for good (``make chaos``, after issue 16); on the sealer's
    own threads they queue and all finish."""
    original = await world.document(sealed[0]["contractId"])
    sealer = world.fleet.deps("signature").sealer
    at_once = 3 * ((asyncio.get_running_loop()._default_executor or _Pool())._max_workers)
    done = await asyncio.wait_for(
        asyncio.gather(*(sealer.seal(original) for _ in range(at_once))), timeout=120
    )
    assert len(done) == at_once
    assert all(pdf.startswith(original) for pdf in done)


class _Pool:
    """What the loop's default executor will be: ``ThreadPoolExecutor()``'s size."""

    _max_workers = min(32, (os.cpu_count() or 1) + 4)


async def test_the_kms_signer_signs_with_the_kms_key(world: Parties) -> None:
    """pyhanko's raw-signature call, answered by KMS ``Sign`` on the moto
    server (RSA 3072, PKCS #1 v1.5, SHA-256): the KMS public key verifies it."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    sealer = world.fleet.deps("signature").sealer
    signer, _ = sealer.signers()
    data = b"the DER of a seal's signed attributes"
    signature = await signer.async_sign_raw(data, "sha256")
    assert len(signature) == 384
    assert await signer.async_sign_raw(data, "sha256", dry_run=True) == bytes(384)
    public = await world.fleet.runtime("signature").aws.kms.get_public_key(KeyId=sealer.key_id)
    key = serialization.load_der_public_key(public["PublicKey"])
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(ValueError, match="sha256 only"):
        await signer.async_sign_raw(data, "sha512")
