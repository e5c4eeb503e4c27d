"""Digests anchored in the Object Lock bucket: written in compliance mode,
read back, used by exports, refused for a tampered journal, and what catches
a history rewritten from end to end."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from mindlinks_dev.harness import Running
from mindlinks_kit.dynamo import to_wire
from mindlinks_ledger import anchoring
from mindlinks_ledger.anchoring import DigestArchive
from mindlinks_ledger.chain import ZERO_HASH, Entry, canonical_json
from mindlinks_ledger.deps import background
from mindlinks_ledger.domain import JournalIntegrity
from mindlinks_ledger.journal import Journal
from mindlinks_ledger.service.ledger import Ledger

if TYPE_CHECKING:
    from conftest import Ledger as Driver


async def anchor(driver: Driver) -> dict[str, Any]:
    response = await driver.client.post("/internal/ledger/digests", headers=driver.service("admin"))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_digest_is_written_once_in_compliance_mode(ledger: Driver) -> None:
    await ledger.append()
    digest = await anchor(ledger)
    runtime = ledger.runtime
    bucket = runtime.settings.physical("ledger-digests")
    key = digest["anchor"]["key"]
    assert key == f"digests/{digest['issuedAt']}-{digest['treeSize']}.json"

    head = await runtime.aws.s3.head_object(Bucket=bucket, Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    issued = datetime.fromisoformat(digest["issuedAt"].replace("Z", "+00:00"))
    retain_until = head["ObjectLockRetainUntilDate"]
    assert retain_until - issued > timedelta(days=7 * 365)
    assert retain_until > datetime.now(UTC) + timedelta(days=6 * 365)
    assert digest["anchor"]["lockMode"] == "COMPLIANCE"

    stored = await runtime.aws.s3.get_object(Bucket=bucket, Key=key)
    async with stored["Body"] as body:
        raw = await body.read()
    fields = ("treeSize", "rootHash", "tipSeq", "tipHash", "issuedAt")
    assert raw == canonical_json({k: digest[k] for k in fields})
    live = (await ledger.client.get("/v1/ledger/digest", headers=ledger.admin())).json()
    assert live["treeSize"] >= digest["treeSize"]

    # Compliance mode: the version cannot be deleted, and no second version is written.
    with pytest.raises(ClientError) as denied:
        await runtime.aws.s3.delete_object(Bucket=bucket, Key=key, VersionId=head["VersionId"])
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    archive: DigestArchive = ledger.fleet.deps("ledger").archive
    anchored = await archive.get(key)
    assert anchored is not None
    with pytest.raises(ClientError) as again:
        await archive.put(anchored.digest)
    assert again.value.response["Error"]["Code"] == "PreconditionFailed"


async def test_the_latest_digest_is_readable_by_any_user(ledger: Driver) -> None:
    await ledger.append()
    digest = await anchor(ledger)
    response = await ledger.client.get(
        "/v1/ledger/digests/latest", headers=ledger.user(uuid.uuid4().hex, "contractor")
    )
    assert response.status_code == 200, response.text
    assert response.json() == digest


async def test_only_ops_may_anchor(ledger: Driver) -> None:
    for service in ("signature", "payment"):
        response = await ledger.client.post(
            "/internal/ledger/digests", headers=ledger.service(service)
        )
        ledger.problem(response, 403, "forbidden")
    ledger.problem(await ledger.client.post("/internal/ledger/digests"), 401, "unauthorized")
    admin_user = ledger.admin()
    response = await ledger.client.post("/internal/ledger/digests", headers=admin_user)
    ledger.problem(response, 401, "unauthorized")


async def test_exports_prove_against_the_anchored_digest_when_it_covers_them(
    ledger: Driver,
) -> None:
    contract, _, _ = await ledger.activate()
    seq = contract.signature_seqs[0]
    headers = ledger.user(contract.client_user_id, "client")
    digest = await anchor(ledger)
    later = await ledger.append()  # after the digest: not covered by it

    export = (await ledger.client.get(f"/v1/ledger/entries/{seq}/export", headers=headers)).json()
    assert export["anchor"] == digest["anchor"]
    assert export["digest"]["rootHash"] == digest["rootHash"]
    assert export["proof"]["treeSize"] == digest["treeSize"]
    verdict = (await ledger.client.post("/v1/ledger/verify", json=export, headers=headers)).json()
    assert verdict["intact"] is True
    assert verdict["anchored"] is True
    assert verdict["digestKey"] == digest["anchor"]["key"]

    admin = ledger.admin()
    fresh = await ledger.client.get(f"/v1/ledger/entries/{later['seq']}/export", headers=admin)
    assert fresh.json()["anchor"] is None
    assert fresh.json()["digest"]["treeSize"] >= later["seq"]
    verdict = (
        await ledger.client.post("/v1/ledger/verify", json=fresh.json(), headers=admin)
    ).json()
    assert verdict["intact"] is True
    assert verdict["anchored"] is False


async def test_a_tampered_journal_is_never_anchored(fleet: Running, ledger: Driver) -> None:
    target = await ledger.append("note", f"s-{uuid.uuid4().hex[:6]}", {"v": "original"})
    runtime = ledger.runtime
    journal_table = runtime.table("journal").name

    async def set_data(value: str) -> None:
        await runtime.aws.dynamodb.update_item(
            TableName=journal_table,
            Key={"seq": {"N": str(target["seq"])}},
            UpdateExpression="SET #d = :d",
            ExpressionAttributeNames={"#d": "data"},
            ExpressionAttributeValues={":d": {"M": {"v": {"S": value}}}},
        )

    before = await fleet.deps("ledger").archive.latest()
    await set_data("forged")
    try:
        response = await ledger.client.post(
            "/internal/ledger/digests", headers=ledger.service("admin")
        )
        ledger.problem(response, 500, "journal-integrity")
        assert response.json()["broken"]["seq"] == target["seq"]
        after = await fleet.deps("ledger").archive.latest()
        assert after == before
    finally:
        await set_data("original")


async def test_the_periodic_task_anchors_only_when_the_journal_grew(ledger: Driver) -> None:
    domain: Ledger = ledger.fleet.deps("ledger").ledger
    await ledger.append()
    first = await domain.anchor_if_grown()
    assert first is not None
    assert await domain.anchor_if_grown() is None
    await ledger.append()
    second = await domain.anchor_if_grown()
    assert second is not None
    assert second.digest.tree_size > first.digest.tree_size


async def rewritten_history(driver: Driver) -> tuple[Journal, Ledger]:
    """A journal of its own, with its own digest pointer, anchored at 5 entries."""
    journal = await driver.fresh_journal()
    deps = driver.fleet.deps("ledger")
    archive = DigestArchive(
        driver.runtime.aws.s3, deps.archive.bucket, journal.store, retention_days=1
    )
    domain = Ledger(journal, archive, deps.ledger.contracts, driver.runtime.metrics)
    for i in range(5):
        await journal.append("note", "s", {"i": i}, f"k{i}")
    await domain.anchor()
    return journal, domain


async def test_a_consistently_rewritten_history_is_caught_by_the_anchor(ledger: Driver) -> None:
    """Someone with write access rewrites entry 3 and re-hashes every entry after
    it: the chain is internally valid again, but the anchored root is not."""
    journal, domain = await rewritten_history(ledger)
    assert await domain.verify_journal() is None
    entries = await journal.range(1, 5)
    prev = entries[1].entry_hash
    client = journal.store.client
    for old in entries[2:]:
        data = {"i": 99} if old.seq == 3 else old.data
        forged = Entry.create(
            seq=old.seq,
            kind=old.kind,
            subject=old.subject,
            data=data,
            recorded_at=old.recorded_at,
            idempotency_key=old.idempotency_key,
            prev_hash=prev,
        )
        prev = forged.entry_hash
        await client.put_item(TableName=journal.store.journal.name, Item=to_wire(forged.as_json()))
    await client.put_item(
        TableName=journal.store.heads.name,
        Item=to_wire(
            {"name": "tip", "tipSeq": 5, "tipHash": prev, "tipRecordedAt": entries[4].recorded_at}
        ),
    )
    assert await journal.verify() is None  # the chain alone cannot tell
    broken = await domain.verify_journal()
    assert broken is not None
    assert (broken.seq, broken.check) == (5, "anchored-digest")
    with pytest.raises(JournalIntegrity):
        await domain.anchor()


async def test_a_truncated_journal_is_caught_by_the_anchor(ledger: Driver) -> None:
    journal, domain = await rewritten_history(ledger)
    client = journal.store.client
    await client.delete_item(TableName=journal.store.journal.name, Key={"seq": {"N": "5"}})
    entry4 = await journal.entry(4)
    await client.put_item(
        TableName=journal.store.heads.name,
        Item=to_wire({"name": "tip", "tipSeq": 4, "tipHash": entry4.entry_hash}),
    )
    broken = await domain.verify_journal()
    assert broken is not None
    assert broken.check == "anchored-digest"
    assert entry4.prev_hash != ZERO_HASH


async def test_periodically_survives_failures_until_cancelled() -> None:
    calls: list[float] = []
    done = asyncio.Event()

    async def tick(interval: float) -> None:
        calls.append(interval)
        await asyncio.sleep(0)

    attempts: list[int] = []

    async def work() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("S3 is down")
        done.set()

    task = asyncio.create_task(anchoring.periodically(work, 3600, "test", sleep=tick))
    await done.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert len(attempts) >= 2
    assert set(calls) == {3600}


async def test_the_digest_task_is_the_ledgers_background_task() -> None:
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    deps = SimpleNamespace(
        settings=SimpleNamespace(digest_interval_seconds=0),
        ledger=SimpleNamespace(anchor_if_grown=forever, anchor_due=asyncio.Event()),
    )
    tasks = background(deps)  # type: ignore[arg-type]
    assert list(tasks) == ["ledger-digests"]
    task = asyncio.create_task(tasks["ledger-digests"]())
    await started.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def test_digest_objects_are_canonical_json() -> None:
    digest = anchoring.Digest(3, "a" * 64, 3, "b" * 64, "2030-01-01T00:00:00.000000Z")
    assert anchoring.digest_key(digest) == "digests/2030-01-01T00:00:00.000000Z-3.json"
    assert json.loads(canonical_json(digest.as_json())) == digest.as_json()
    assert anchoring.digest_of(digest.as_json()) == digest


async def test_the_dev_route_anchors_in_local_mode(ledger: Driver) -> None:
    await ledger.append()
    response = await ledger.client.post("/v1/ledger/dev/digests")
    assert response.status_code == 201, response.text
    assert response.json()["anchor"]["lockMode"] == "COMPLIANCE"


async def test_full_verifications_are_shared_for_a_short_while(ledger: Driver) -> None:
    domain: Ledger = ledger.fleet.deps("ledger").ledger
    first = await domain.verified_journal(3600)
    assert first == await domain.verified_journal(3600)
    fresh = await domain.verified_journal(0)
    assert fresh[0] is None
    assert fresh[1] >= first[1]


async def test_every_activation_wakes_the_anchoring_at_once(ledger: Driver) -> None:
    """A contract's activation and schedule are in an anchored digest as soon
    as the digest task runs — woken by the activation, not an interval later —
    and the activation never waits for the whole journal's verification."""
    deps = ledger.fleet.deps("ledger")
    assert deps.settings.digest_interval_seconds >= 60  # only the wake can anchor here
    domain: Ledger = deps.ledger
    domain.anchor_due.clear()
    task = asyncio.create_task(background(deps)["ledger-digests"]())
    try:
        contract, _, _ = await ledger.activate(
            {
                "kind": "milestones",
                "milestones": [
                    {"title": "Design", "amountMinor": 5000, "dueDate": "2030-02-01"},
                    {"title": "Build", "amountMinor": 7000, "dueDate": "2030-03-01"},
                ],
            }
        )
        entries = await ledger.history(contract.id)
        assert [e["kind"] for e in entries][-3:] == [
            "contract-activated",
            "payment-scheduled",
            "payment-scheduled",
        ]
        newest = max(e["seq"] for e in entries)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        latest = await deps.archive.latest()
        while (latest is None or latest.digest.tree_size < newest) and loop.time() < deadline:
            await asyncio.sleep(0.05)
            latest = await deps.archive.latest()
        assert latest is not None
        assert latest.digest.tree_size >= newest
        assert latest.lock_mode == "COMPLIANCE"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_periodically_runs_at_once_when_woken() -> None:
    wake = asyncio.Event()
    ran = asyncio.Event()

    async def work() -> None:
        ran.set()

    task = asyncio.create_task(anchoring.periodically(work, 3600, "test", wake=wake))
    wake.set()
    await asyncio.wait_for(ran.wait(), 5)
    assert not wake.is_set()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_a_burst_of_anchoring_triggers_anchors_once(ledger: Driver) -> None:
    domain: Ledger = ledger.fleet.deps("ledger").ledger
    await ledger.append()
    anchored = await asyncio.gather(*(domain.anchor_if_grown() for _ in range(5)))
    assert len([a for a in anchored if a is not None]) == 1


async def test_a_failed_anchor_never_fails_the_activation(ledger: Driver) -> None:
    domain: Ledger = ledger.fleet.deps("ledger").ledger
    original = domain.archive.put

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("S3 is down")

    domain.archive.put = broken  # type: ignore[method-assign]
    try:
        contract, _, _ = await ledger.activate()
    finally:
        del domain.archive.put
    assert original == domain.archive.put
    assert [e["kind"] for e in await ledger.history(contract.id)][-2:] == [
        "contract-activated",
        "payment-scheduled",
    ]
    assert await ledger.published("ledger.contract-activated", contract.id)


def test_digests_are_anchored_every_few_minutes_by_default() -> None:
    from mindlinks_ledger.settings import Settings

    assert Settings().digest_interval_seconds <= 300
    assert Settings(digest_interval_seconds=60).digest_interval_seconds == 60
