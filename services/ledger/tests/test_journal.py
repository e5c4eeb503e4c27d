"""Appends: the hash chain, idempotency, races for the tip, and tampering found."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev.harness import Running
from mindlinks_kit.dynamo import values
from mindlinks_ledger.chain import ZERO_HASH, Entry, canonical_json, find_break
from mindlinks_ledger.domain import JournalBusy
from mindlinks_ledger.store import Contended, JournalStore

if TYPE_CHECKING:
    from conftest import Ledger


async def test_an_append_answers_the_chained_entry(ledger: Ledger) -> None:
    subject = f"c-{uuid.uuid4().hex[:8]}"
    first = await ledger.append("note", subject, {"text": "héllo", "amountMinor": 5})
    second = await ledger.append("note", subject, {"nested": {"b": [1, None, True], "a": ""}})
    assert set(first) == {"seq", "entryHash", "contentHash", "prevHash", "recordedAt"}
    assert second["seq"] == first["seq"] + 1
    assert second["prevHash"] == first["entryHash"]
    assert second["recordedAt"] >= first["recordedAt"]
    # Anyone can recompute both hashes from the stored entry.
    entries = await ledger.history(subject)
    assert [e["seq"] for e in entries] == [first["seq"], second["seq"]]
    stored = entries[0]
    content = canonical_json(
        {k: stored[k] for k in ("seq", "kind", "subject", "data", "recordedAt")}
    )
    assert hashlib.sha256(content).hexdigest() == first["contentHash"]
    linked = bytes.fromhex(first["prevHash"]) + bytes.fromhex(first["contentHash"])
    assert hashlib.sha256(linked).hexdigest() == first["entryHash"]
    assert stored["data"] == {"text": "héllo", "amountMinor": 5}
    assert entries[1]["data"] == {"nested": {"b": [1, None, True], "a": ""}}


async def test_the_same_key_answers_the_same_entry(ledger: Ledger) -> None:
    key = f"k-{uuid.uuid4().hex}"
    body = {"kind": "note", "subject": "s-1", "data": {"n": 1}, "idempotencyKey": key}
    headers = ledger.service("signature")
    created = await ledger.client.post("/internal/ledger/entries", json=body, headers=headers)
    assert created.status_code == 201, created.text
    again = await ledger.client.post("/internal/ledger/entries", json=body, headers=headers)
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == created.json()
    other = await ledger.client.post(
        "/internal/ledger/entries", json={**body, "data": {"n": 2}}, headers=headers
    )
    ledger.problem(other, 422, "idempotency-key-reused")
    assert other.json()["existingSeq"] == created.json()["seq"]
    tip = await ledger.runtime.table("heads").get({"name": "tip"})
    assert tip is not None
    assert tip["tipSeq"] >= created.json()["seq"]


async def test_twenty_concurrent_appends_make_a_contiguous_chain(ledger: Ledger) -> None:
    """Through the API: one process, appends queue on its lock and the tip."""
    subject = f"burst-{uuid.uuid4().hex[:8]}"
    answers = await asyncio.gather(*(ledger.append("note", subject, {"i": i}) for i in range(20)))
    seqs = sorted(a["seq"] for a in answers)
    assert seqs == list(range(seqs[0], seqs[0] + 20))
    entries = [Entry.from_json(e) for e in await ledger.history(subject)]
    assert [e.seq for e in entries] == seqs
    first = entries[0]
    assert find_break(entries, start_seq=first.seq, start_prev=first.prev_hash) is None
    assert sorted(e.data["i"] for e in entries) == list(range(20))


async def test_racing_processes_never_fork_the_chain(ledger: Ledger) -> None:
    """Four journals over the same tables stand for four processes: their
    appends really race on the tip, and the losers retry."""
    journal = await ledger.fresh_journal()
    processes = [journal, *(type(journal)(journal.store) for _ in range(3))]
    appended = await asyncio.gather(
        *(processes[i % 4].append("note", "race", {"i": i}, f"race-{i}") for i in range(20))
    )
    assert sorted(a.entry.seq for a in appended) == list(range(1, 21))
    assert await journal.verify() is None
    entries = await journal.range(1, 20)
    assert entries[0].prev_hash == ZERO_HASH
    assert find_break(entries) is None
    # And a replayed key during a race still answers its one entry.
    again = await asyncio.gather(*(p.append("note", "race", {"i": 3}, "race-3") for p in processes))
    assert {a.entry.seq for a in again} == {
        next(a.entry.seq for a in appended if a.entry.data["i"] == 3)
    }
    assert not any(a.created for a in again)


async def test_a_stale_remembered_tip_still_appends_in_order(ledger: Ledger) -> None:
    """Two processes take turns: each one's remembered tip is stale at every
    append but its first, so each append's condition fails once, it re-reads
    the tip and appends after the other's entry."""
    one = await ledger.fresh_journal()
    two = type(one)(one.store)
    appended = []
    for i in range(6):
        appended.append(await (one, two)[i % 2].append("note", "turns", {"i": i}, f"turn-{i}"))
    assert [a.entry.seq for a in appended] == list(range(1, 7))
    assert all(a.created for a in appended)
    assert await one.verify() is None
    # Concurrently, both stale: still one contiguous chain.
    more = await asyncio.gather(
        *((one, two)[i % 2].append("note", "turns", {"i": i}, f"turn-{i}") for i in range(6, 16))
    )
    assert sorted(a.entry.seq for a in more) == list(range(7, 17))
    assert await two.verify() is None
    # A used key behind a fresh remembered tip answers its entry, appending nothing.
    again = await one.append("note", "turns", {"i": 0}, "turn-0")
    assert (again.entry.seq, again.created, again.same_request) == (1, False, True)
    assert (await one.tip()).seq == 16


async def test_an_uncontended_append_reads_neither_the_tip_nor_the_key(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = await ledger.fresh_journal()
    await journal.append("note", "s", {"n": 0}, "first")  # learns the tip
    reads: list[str] = []
    tip, key = JournalStore.tip, JournalStore.key

    async def read_tip(store: JournalStore) -> Any:
        reads.append("tip")
        return await tip(store)

    async def read_key(store: JournalStore, idempotency_key: str) -> Any:
        reads.append("key")
        return await key(store, idempotency_key)

    monkeypatch.setattr(JournalStore, "tip", read_tip)
    monkeypatch.setattr(JournalStore, "key", read_key)
    second = await journal.append("note", "s", {"n": 1}, "second")
    assert second.entry.seq == 2
    assert reads == []


async def test_an_append_that_always_loses_gives_up_with_503(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = await ledger.fresh_journal(attempts=3)

    async def always_contended(*args: Any, **kwargs: Any) -> None:
        raise Contended("tip moved")

    monkeypatch.setattr(JournalStore, "append", always_contended)
    with pytest.raises(JournalBusy):
        await journal.append("note", "s", {}, "k-busy")


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "note", "subject": "s", "data": {"x": 1.5}, "idempotencyKey": "k"},
        {"kind": "note", "subject": "s", "data": {"x": 2**60}, "idempotencyKey": "k"},
        {"kind": "note", "subject": "s", "data": {"": 1}, "idempotencyKey": "k"},
        {"kind": "note", "subject": "s", "data": {"x": "a" * 40000}, "idempotencyKey": "k"},
    ],
)
async def test_data_without_one_canonical_form_is_refused(
    ledger: Ledger, body: dict[str, Any]
) -> None:
    body = {**body, "idempotencyKey": uuid.uuid4().hex}
    response = await ledger.client.post(
        "/internal/ledger/entries", json=body, headers=ledger.service("signature")
    )
    ledger.problem(response, 422, "invalid-entry-data")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"kind": "note", "subject": "s", "data": {}},
        {"kind": "Note!", "subject": "s", "data": {}, "idempotencyKey": "k"},
        {"kind": "note", "subject": "", "data": {}, "idempotencyKey": "k"},
        {"kind": "note", "subject": "with space", "data": {}, "idempotencyKey": "k"},
        {"kind": "note", "subject": "s", "data": [], "idempotencyKey": "k"},
        {"kind": "note", "subject": "s", "data": {}, "idempotencyKey": "k" * 201},
        {"kind": "note", "subject": "s", "data": {}, "idempotencyKey": "k", "seq": 1},
    ],
)
async def test_malformed_appends_are_422(ledger: Ledger, body: dict[str, Any]) -> None:
    response = await ledger.client.post(
        "/internal/ledger/entries", json=body, headers=ledger.service("signature")
    )
    ledger.problem(response, 422, "invalid-input")


async def test_who_may_append_and_what(ledger: Ledger) -> None:
    body = {"kind": "note", "subject": "s", "data": {}, "idempotencyKey": uuid.uuid4().hex}
    post = ledger.client.post
    ledger.problem(await post("/internal/ledger/entries", json=body), 401, "unauthorized")
    user = ledger.user(uuid.uuid4().hex, "admin")
    ledger.problem(
        await post("/internal/ledger/entries", json=body, headers=user), 401, "unauthorized"
    )
    for service in ("payment", "contract", "notification"):
        response = await post(
            "/internal/ledger/entries", json=body, headers=ledger.service(service)
        )
        ledger.problem(response, 403, "forbidden")
    for kind in ("contract-activated", "payment-scheduled"):
        response = await post(
            "/internal/ledger/entries",
            json={**body, "kind": kind},
            headers=ledger.service("signature"),
        )
        ledger.problem(response, 422, "reserved-kind")
    unsigned = {**body, "kind": "signature", "data": {"pdfSha256": "not-a-hash"}}
    response = await post("/internal/ledger/entries", json=unsigned, headers=ledger.service())
    ledger.problem(response, 422, "signature-needs-pdf-sha256")


async def test_subject_entries_page_with_signed_cursors(ledger: Ledger) -> None:
    subject = f"paged-{uuid.uuid4().hex[:8]}"
    for i in range(5):
        await ledger.append("note", subject, {"i": i})
    headers = ledger.service("admin")
    first = await ledger.client.get(
        f"/internal/ledger/subjects/{subject}", params={"limit": 3}, headers=headers
    )
    assert [e["data"]["i"] for e in first.json()["items"]] == [0, 1, 2]
    cursor = first.json()["nextCursor"]
    rest = await ledger.client.get(
        f"/internal/ledger/subjects/{subject}",
        params={"limit": 3, "cursor": cursor},
        headers=headers,
    )
    assert [e["data"]["i"] for e in rest.json()["items"]] == [3, 4]
    # A cursor is bound to its list (and its caller).
    other = await ledger.client.get(
        "/internal/ledger/subjects/other", params={"cursor": cursor}, headers=headers
    )
    ledger.problem(other, 422, "invalid-cursor")
    for bad in ({"limit": 0}, {"limit": 101}, {"cursor": "!!"}):
        response = await ledger.client.get(
            f"/internal/ledger/subjects/{subject}", params=bad, headers=headers
        )
        assert response.status_code == 422, bad
    unknown = await ledger.client.get("/internal/ledger/subjects/nothing-here", headers=headers)
    assert unknown.json() == {"items": [], "nextCursor": None}


@pytest.mark.parametrize("path", ["/internal/ledger/subjects/s-1", "/internal/ledger/verify"])
async def test_only_the_admin_service_reads_subjects_and_verifies(
    ledger: Ledger, path: str
) -> None:
    for service in ("signature", "payment", "contract", "ledger"):
        denied = await ledger.client.get(path, headers=ledger.service(service))
        ledger.problem(denied, 403, "forbidden")
    ledger.problem(await ledger.client.get(path), 401, "unauthorized")
    # A user's token (an admin user's included) is not a service credential.
    for headers in (ledger.admin(), ledger.user(uuid.uuid4().hex)):
        ledger.problem(await ledger.client.get(path, headers=headers), 401, "unauthorized")


async def test_the_journal_export_walks_seq_order_for_ops_only(ledger: Ledger) -> None:
    await ledger.append()
    headers = ledger.service("admin")
    page = await ledger.client.get(
        "/internal/ledger/entries", params={"fromSeq": 1, "limit": 2}, headers=headers
    )
    assert page.status_code == 200, page.text
    assert [e["seq"] for e in page.json()["items"]] == [1, 2]
    assert page.json()["nextCursor"] == "3"
    entries = [Entry.from_json(e) for e in page.json()["items"]]
    assert find_break(entries) is None
    denied = await ledger.client.get(
        "/internal/ledger/entries", headers=ledger.service("signature")
    )
    ledger.problem(denied, 403, "forbidden")


async def tamper(fleet: Running, seq: int, data: dict[str, Any]) -> None:
    runtime = fleet.runtime("ledger")
    serialized = {":d": {"M": {k: {"S": v} for k, v in data.items()}}}
    await runtime.aws.dynamodb.update_item(
        TableName=runtime.table("journal").name,
        Key={"seq": {"N": str(seq)}},
        UpdateExpression="SET #d = :d",
        ExpressionAttributeNames={"#d": "data"},
        ExpressionAttributeValues=serialized,
    )


async def test_a_changed_entry_is_found_and_named(fleet: Running, ledger: Ledger) -> None:
    subject = f"t-{uuid.uuid4().hex[:8]}"
    target = await ledger.append("note", subject, {"who": "alice"})
    last = await ledger.append("note", subject, {"who": "bob"})
    ops = ledger.service("admin")
    clean = await ledger.client.get("/internal/ledger/verify", headers=ops)
    assert clean.status_code == 200, clean.text
    report = clean.json()
    tip = await ledger.runtime.table("heads").get({"name": "tip"})
    assert tip is not None
    assert (report["ok"], report["firstBrokenSeq"], report["problem"]) == (True, None, None)
    assert report["entries"] == report["tip"]["seq"] == int(tip["tipSeq"]) >= last["seq"]
    assert report["tip"]["hash"] == tip["tipHash"]
    assert report["tip"]["recordedAt"] == tip["tipRecordedAt"]
    # The earlier fields stay.
    assert (report["intact"], report["broken"], report["tipSeq"]) == (True, None, tip["tipSeq"])
    assert report["checkedAt"].endswith("Z")

    await tamper(fleet, target["seq"], {"who": "mallory"})
    try:
        assert await fleet.deps("ledger").ledger.verify_journal() is not None
        broken = await ledger.client.get("/internal/ledger/verify", headers=ops)
        assert broken.status_code == 200, broken.text
        report = broken.json()
        assert (report["ok"], report["intact"]) == (False, False)
        assert report["firstBrokenSeq"] == target["seq"]
        assert report["problem"].startswith("content-hash: the content hashes to ")
        assert report["broken"]["seq"] == target["seq"]
        assert report["broken"]["check"] == "content-hash"
        assert report["entries"] == report["tip"]["seq"]  # every entry is there; one changed
    finally:
        await tamper(fleet, target["seq"], {"who": "alice"})
    assert (await ledger.client.get("/internal/ledger/verify", headers=ops)).json()["ok"]


async def test_a_rewritten_chain_is_caught_by_its_links(ledger: Ledger) -> None:
    """Rehashing a changed entry moves the break to the next link; rewriting
    every later entry too is what the anchored digests catch (test_anchoring)."""
    journal = await ledger.fresh_journal()
    for i in range(4):
        await journal.append("note", "s", {"i": i}, f"k{i}")
    entry = await journal.entry(2)
    forged = Entry.create(
        seq=2,
        kind=entry.kind,
        subject=entry.subject,
        data={"i": 99},
        recorded_at=entry.recorded_at,
        idempotency_key=entry.idempotency_key,
        prev_hash=entry.prev_hash,
    )
    client = journal.store.client
    await client.put_item(
        TableName=journal.store.journal.name,
        Item=_wire(forged.as_json()),
    )
    broken = await journal.verify()
    assert broken is not None
    assert (broken.seq, broken.check) == (3, "prev-hash")

    await client.delete_item(TableName=journal.store.journal.name, Key={"seq": {"N": "3"}})
    verification = await journal.verification()
    assert verification.broken is not None
    assert (verification.broken.seq, verification.broken.check) == (3, "missing")
    assert (verification.entries, verification.tip.seq) == (3, 4)

    await client.update_item(
        TableName=journal.store.heads.name,
        Key={"name": {"S": "tip"}},
        UpdateExpression="SET tipHash = :h",
        ExpressionAttributeValues=values(h="f" * 64),
    )
    assert (await journal.verify()) is not None


def _wire(item: dict[str, Any]) -> dict[str, Any]:
    from mindlinks_kit.dynamo import to_wire

    return to_wire(json.loads(json.dumps(item)))


async def test_a_changed_signature_is_reported_by_every_verifier(
    fleet: Running, ledger: Ledger
) -> None:
    contract, _, _ = await ledger.activate()
    seq = contract.signature_seqs[0]
    party = ledger.user(contract.client_user_id, "client")
    export = (await ledger.client.get(f"/v1/ledger/entries/{seq}/export", headers=party)).json()
    runtime = fleet.runtime("ledger")

    async def set_role(role: str) -> None:
        await runtime.aws.dynamodb.update_item(
            TableName=runtime.table("journal").name,
            Key={"seq": {"N": str(seq)}},
            UpdateExpression="SET #d.signerRole = :r",
            ExpressionAttributeNames={"#d": "data"},
            ExpressionAttributeValues=values(r=role),
        )

    await set_role("contractor")
    try:
        by_export = await ledger.client.post("/v1/ledger/verify", json=export, headers=party)
        assert by_export.status_code == 200, by_export.text
        assert by_export.json()["intact"] is False
        failed = [c for c in by_export.json()["checks"] if not c["ok"]]
        assert [c["name"] for c in failed] == ["journal"]
        assert "no longer verifies" in failed[0]["detail"]

        by_pdf = await ledger.client.post(
            "/v1/ledger/verify",
            json={"contractId": contract.id, "pdfSha256": contract.pdf_sha256},
            headers=party,
        )
        assert by_pdf.json()["intact"] is False
        checks = {c["name"]: c for c in by_pdf.json()["checks"]}
        assert checks["pdf"]["ok"] is True  # the hash is still recorded...
        assert checks["entries"]["ok"] is False  # ...but its entry no longer re-hashes
        assert f"entry {seq} fails content-hash" in checks["entries"]["detail"]

        found = await fleet.deps("ledger").ledger.verify_journal()
        assert found is not None
        assert (found.seq, found.check) == (seq, "content-hash")
    finally:
        await set_role("client")
    after = await ledger.client.post("/v1/ledger/verify", json=export, headers=party)
    assert after.json()["intact"] is True


async def test_the_ledger_never_rewrites_a_journal_item(ledger: Ledger) -> None:
    """Everything the ledger does — appends, an activation with its schedule,
    reads, proofs, exports, verification, anchoring — sends the journal table
    only reads and puts conditioned on a new seq (its task role is denied the
    rest: tools/devkit/tests/deploy/test_terraform.py)."""
    journal_table = ledger.runtime.table("journal").name
    calls: list[tuple[str, dict[str, Any]]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.append((model.name, params))

    events = ledger.runtime.aws.dynamodb.meta.events
    events.register("before-parameter-build.dynamodb", record)
    wire = ledger.runtime.aws.dynamo_wire  # the tables' reads (ADR 0009)
    observed = wire.observe
    wire.observe = lambda operation, params: calls.append((operation, params))
    try:
        contract, _, _ = await ledger.activate()
        seq = contract.signature_seqs[0]
        party = ledger.user(contract.client_user_id)
        for path in (
            f"/v1/ledger/contracts/{contract.id}/history",
            f"/v1/ledger/entries/{seq}/proof",
            "/v1/ledger/digest",
            "/v1/ledger/consistency?first=1&second=2",
        ):
            assert (await ledger.client.get(path, headers=party)).status_code == 200
        export = (await ledger.client.get(f"/v1/ledger/entries/{seq}/export", headers=party)).json()
        verified = await ledger.client.post("/v1/ledger/verify", json=export, headers=party)
        assert verified.json()["intact"] is True
        admin = ledger.service("admin")
        assert (
            await ledger.client.get("/internal/ledger/verify", headers=admin)
        ).status_code == 200
        assert (
            await ledger.client.post("/internal/ledger/digests", headers=admin)
        ).status_code == 201
    finally:
        events.unregister("before-parameter-build.dynamodb", record)
        wire.observe = observed

    touching: list[tuple[str, dict[str, Any]]] = []
    for operation, params in calls:
        if params.get("TableName") == journal_table or journal_table in params.get(
            "RequestItems", {}
        ):
            touching.append((operation, params))
        for item in params.get("TransactItems", []):
            for action, spec in item.items():
                if spec.get("TableName") == journal_table:
                    touching.append((action, spec))
    kinds = {operation for operation, _ in touching}
    assert kinds <= {"GetItem", "BatchGetItem", "Query", "Scan", "Put"}, kinds
    assert kinds & {"GetItem", "Query"}  # the wire's reads are seen too
    puts = [spec for operation, spec in touching if operation == "Put"]
    assert len(puts) >= 4  # two signatures, the activation, its schedule item
    assert all(spec["ConditionExpression"] == "attribute_not_exists(#s)" for spec in puts)
    assert all(spec["ExpressionAttributeNames"] == {"#s": "seq"} for spec in puts)


async def test_an_entrys_inclusion_proof_is_hashes_only_for_the_signature_service(
    ledger: Ledger,
) -> None:
    """What the signature service's public verify-by-upload shows: the proof
    of a printed entry hash, without the entry's content."""
    from mindlinks_ledger import merkle

    receipt = await ledger.append("note", data={"secret": "never in a proof"})
    path = f"/internal/ledger/entries/{receipt['seq']}/inclusion"
    answer = await ledger.client.get(path, headers=ledger.service("signature"))
    assert answer.status_code == 200, answer.text
    proof = answer.json()
    assert set(proof) == {"seq", "entryHash", "leafIndex", "treeSize", "auditPath", "rootHash"}
    assert (proof["seq"], proof["entryHash"]) == (receipt["seq"], receipt["entryHash"])
    assert "never in a proof" not in answer.text
    assert merkle.verify_inclusion(
        merkle.leaf_hash(bytes.fromhex(proof["entryHash"])),
        proof["leafIndex"],
        proof["treeSize"],
        [bytes.fromhex(h) for h in proof["auditPath"]],
        bytes.fromhex(proof["rootHash"]),
    )
    beyond = f"/internal/ledger/entries/{proof['treeSize'] + 1000}/inclusion"
    ledger.problem(
        await ledger.client.get(beyond, headers=ledger.service("signature")), 404, "not-found"
    )
    bad = await ledger.client.get(
        "/internal/ledger/entries/0/inclusion", headers=ledger.service("signature")
    )
    assert bad.status_code == 422
    for service in ("admin", "payment", "contract"):
        denied = await ledger.client.get(path, headers=ledger.service(service))
        ledger.problem(denied, 403, "forbidden")
    ledger.problem(await ledger.client.get(path), 401, "unauthorized")
    ledger.problem(await ledger.client.get(path, headers=ledger.admin()), 401, "unauthorized")
