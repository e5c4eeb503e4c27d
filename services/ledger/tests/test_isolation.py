"""Two tenants on one journal: what one tenant's users can learn about, and
make the ledger do with, the other's entries (issue #9, item 12)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev.harness import Running

if TYPE_CHECKING:
    from conftest import Contract, Ledger


@pytest.fixture(scope="module")
async def tenants(ledger: Ledger) -> tuple[Contract, Contract]:
    """Two contracts between two unrelated pairs of companies."""
    first, _, _ = await ledger.activate()
    second, _, _ = await ledger.activate()
    return first, second


async def export_of(ledger: Ledger, contract: Contract, seq: int) -> dict[str, Any]:
    response = await ledger.client.get(
        f"/v1/ledger/entries/{seq}/export", headers=ledger.user(contract.client_user_id)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_another_tenants_export_is_not_verified_for_you(
    ledger: Ledger, tenants: tuple[Contract, Contract]
) -> None:
    """B's client posts A's export (obtained somehow), or a forgery of it: the
    ledger answers as for an entry that does not exist, never with A's stored
    hash or whether a guess at A's data is right."""
    a, b = tenants
    seq = a.signature_seqs[0]
    export = await export_of(ledger, a, seq)
    b_client = ledger.user(b.client_user_id, "client")
    guess = {**export, "entry": {**export["entry"], "data": {"guess": 1}, "entryHash": "a" * 64}}
    spoofed = {**export, "entry": {**export["entry"], "subject": b.id}}  # claims B's contract
    unknown = {**export, "entry": {**export["entry"], "seq": 2**40}}
    answers = []
    for body in (export, guess, spoofed, unknown):
        response = await ledger.client.post("/v1/ledger/verify", json=body, headers=b_client)
        ledger.problem(response, 404, "not-found")
        answers.append({k: v for k, v in response.json().items() if k != "instance"})
        assert export["entry"]["entryHash"] not in response.text
    assert all(answer == answers[-1] for answer in answers)  # indistinguishable from unknown
    # A's own parties still verify it, and a changed copy is told apart from the
    # stored one without echoing the stored hash.
    a_contractor = ledger.user(a.contractor_user_id, "contractor")
    own = await ledger.client.post("/v1/ledger/verify", json=export, headers=a_contractor)
    assert own.json()["intact"] is True, own.text
    changed = await ledger.client.post("/v1/ledger/verify", json=guess, headers=a_contractor)
    assert changed.json()["intact"] is False
    journal = next(c for c in changed.json()["checks"] if c["name"] == "journal")
    assert journal["ok"] is False
    assert export["entry"]["entryHash"] not in journal["detail"]


async def test_the_digest_is_computed_once_for_every_caller(
    fleet: Running, ledger: Ledger, tenants: tuple[Contract, Contract]
) -> None:
    """Fifty users asking for the digest at once make the ledger read the
    journal at most once (and the next ones within the window not at all)."""
    a, b = tenants
    journal = fleet.deps("ledger").journal
    reads: list[str] = []
    original_tip, original_scan = journal.store.tip, journal.store.scan

    async def counted_tip() -> Any:
        reads.append("tip")
        return await original_tip()

    async def counted_scan(*args: Any, **kwargs: Any) -> Any:
        reads.append("scan")
        return await original_scan(*args, **kwargs)

    journal._published = None
    journal.store.tip, journal.store.scan = counted_tip, counted_scan
    try:
        users = [ledger.user(a.client_user_id), ledger.user(b.contractor_user_id, "contractor")]
        responses = await asyncio.gather(
            *(ledger.client.get("/v1/ledger/digest", headers=users[i % 2]) for i in range(50))
        )
        again = await ledger.client.get("/v1/ledger/digest", headers=users[0])
    finally:
        del journal.store.tip, journal.store.scan
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["issuedAt"] for r in [*responses, again]}) == 1
    assert reads.count("tip") == 1
    assert "scan" not in reads  # the hashes were read before; only new ones are fetched


async def test_proofs_and_consistency_never_reread_the_journal(
    fleet: Running, ledger: Ledger, tenants: tuple[Contract, Contract]
) -> None:
    """Once a process has read the journal's hashes, proofs and consistency
    proofs of any size read only entries appended since: a signed-in user
    cannot make it scan the whole journal per request."""
    a, _ = tenants
    journal = fleet.deps("ledger").journal
    headers = ledger.user(a.client_user_id)
    await ledger.client.get("/v1/ledger/consistency?first=1&second=1", headers=headers)
    scans: list[int] = []
    original = journal.store.scan

    async def counted(*args: Any, **kwargs: Any) -> Any:
        scans.append(1)
        return await original(*args, **kwargs)

    journal.store.scan = counted
    try:
        await ledger.append()  # a new entry: read by batch get, not a scan
        digest = (await ledger.client.get("/v1/ledger/digest", headers=headers)).json()
        size = (await journal.tip()).seq
        for first in sorted({1, 2, size // 3, size // 2, size - 1, size}):
            response = await ledger.client.get(
                "/v1/ledger/consistency",
                params={"first": first, "second": size},
                headers=headers,
            )
            assert response.status_code == 200, response.text
        proof = await ledger.client.get(
            f"/v1/ledger/entries/{a.signature_seqs[0]}/proof", headers=headers
        )
        assert proof.status_code == 200, proof.text
    finally:
        del journal.store.scan
    assert scans == []
    assert digest["treeSize"] >= 1


async def test_a_party_is_not_told_where_another_tenants_entry_broke(ledger: Ledger) -> None:
    """PDF verification tells a party whether the journal verifies, never which
    entry (of whose contract) broke or how; an admin gets the detail."""
    from types import SimpleNamespace

    from mindlinks_ledger.clients import ContractView
    from mindlinks_ledger.service.ledger import Ledger as Domain

    journal = await ledger.fresh_journal()
    deps = ledger.fleet.deps("ledger")
    mine = await ledger.add_contract()
    view = ContractView.model_validate(mine.body)

    class OneContract:
        async def get(self, contract_id: str) -> ContractView | None:
            return view if contract_id == mine.id else None

    domain = Domain(journal, deps.archive, OneContract(), ledger.runtime.metrics)  # type: ignore[arg-type]
    domain.archive = SimpleNamespace(latest=_no_digest)  # type: ignore[assignment]
    await journal.append("signature", mine.id, {"pdfSha256": mine.pdf_sha256}, "k-mine")
    theirs = await journal.append("note", "c-other-tenant", {"amountMinor": 123}, "k-theirs")
    await ledger.runtime.aws.dynamodb.update_item(
        TableName=journal.store.journal.name,
        Key={"seq": {"N": str(theirs.entry.seq)}},
        UpdateExpression="SET #d = :d",
        ExpressionAttributeNames={"#d": "data"},
        ExpressionAttributeValues={":d": {"M": {"amountMinor": {"N": "999"}}}},
    )
    party = SimpleNamespace(user_id=mine.client_user_id, role="client")
    verdict = await domain.verify_pdf(party, mine.id, mine.pdf_sha256)
    check = next(c for c in verdict.checks if c.name == "journal")
    assert check.ok is False
    assert "c-other-tenant" not in check.detail
    assert f"entry {theirs.entry.seq}" not in check.detail
    assert "content-hash" not in check.detail
    admin = SimpleNamespace(user_id="ops", role="admin")
    detail = next(
        c
        for c in (await domain.verify_pdf(admin, mine.id, mine.pdf_sha256)).checks
        if c.name == "journal"
    ).detail
    assert f"entry {theirs.entry.seq}" in detail


async def _no_digest() -> None:
    return None
