"""The ledger's use cases: who may append and read what, exports,
verification and anchoring. No FastAPI here; the journal mechanics live in
``journal.py``, the activation consumer in ``service.activation``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog

from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import Item
from mindlinks_kit.errors import Forbidden
from mindlinks_kit.observability import Metrics
from mindlinks_ledger.anchoring import DigestArchive
from mindlinks_ledger.chain import Break, Entry, entry_faults, is_hash
from mindlinks_ledger.clients import Contracts, ContractView
from mindlinks_ledger.domain import (
    APPENDERS,
    RESERVED_KINDS,
    SIGNATURE,
    Anchored,
    Appended,
    Caller,
    ContractNotFound,
    Digest,
    EntryNotFound,
    Export,
    JournalBroken,
    JournalIntegrity,
    KeyReused,
    Proof,
    ReservedKind,
    SignatureWithoutPdfHash,
    Tip,
    TreeSizeOutOfRange,
    Verdict,
    Verification,
    contract_of,
)
from mindlinks_ledger.journal import Journal
from mindlinks_ledger.verification import (
    Check,
    DigestDoc,
    EntryDoc,
    ProofDoc,
    pdf_fields_matching,
    verify_bundle,
)

log = structlog.get_logger("mindlinks.ledger")


class Ledger:
    def __init__(
        self,
        journal: Journal,
        archive: DigestArchive,
        contracts: Contracts,
        metrics: Metrics,
        verify_cache_seconds: float = 30.0,
    ) -> None:
        self.journal = journal
        self.archive = archive
        self.contracts = contracts
        self.metrics = metrics
        self.verify_cache_seconds = verify_cache_seconds
        self._verified: tuple[float, Break | None, str] | None = None
        self._verifying = asyncio.Lock()
        self._anchoring = asyncio.Lock()
        self.anchor_due = asyncio.Event()
        """Set by an activation: the digest task anchors now, not an interval later."""

    async def append(
        self, caller: str, kind: str, subject: str, data: dict[str, Any], key: str
    ) -> Appended:
        if caller not in APPENDERS:
            raise Forbidden(f"the {caller} service may not append to the ledger")
        if kind in RESERVED_KINDS:
            raise ReservedKind()
        if kind == SIGNATURE and not is_hash(data.get("pdfSha256")):
            raise SignatureWithoutPdfHash()
        appended = await self.journal.append(kind, subject, data, key)
        if not appended.same_request:
            raise KeyReused(existingSeq=appended.entry.seq)
        return appended

    async def visible_contract(self, caller: Caller, contract_id: str) -> ContractView:
        """The contract, for its parties and admins; 404 for anyone else."""
        contract = await self.contracts.get(contract_id)
        if contract is None or (caller.role != "admin" and not contract.is_party(caller.user_id)):
            raise ContractNotFound()
        return contract

    async def history(
        self, caller: Caller, contract_id: str, limit: int, start: Item | None
    ) -> tuple[list[Entry], Item | None]:
        await self.visible_contract(caller, contract_id)
        return await self.journal.subject_page(contract_id, limit, start)

    async def item_history(
        self, caller: Caller, escrow_id: str, limit: int, start: Item | None
    ) -> tuple[list[Entry], Item | None]:
        """An escrowed item's steps, for its contract's parties and admins
        (the contract is the one its first step records; no steps: 404)."""
        first, _ = await self.journal.subject_page(escrow_id, 1, None)
        if not first:
            raise EntryNotFound()
        try:
            await self.visible_contract(caller, contract_of(first[0]))
        except ContractNotFound:
            raise EntryNotFound() from None
        return await self.journal.subject_page(escrow_id, limit, start)

    async def visible_entry(self, caller: Caller, seq: int) -> Entry:
        """An entry, for the parties of its contract (``contract_of``) and admins."""
        tip = await self.journal.tip()
        if not 1 <= seq <= tip.seq:
            raise EntryNotFound()
        entry = await self.journal.entry(seq)
        if caller.role != "admin":
            try:
                await self.visible_contract(caller, contract_of(entry))
            except ContractNotFound:
                raise EntryNotFound() from None
        return entry

    async def proof(self, caller: Caller, seq: int, tree_size: int | None) -> Proof:
        await self.visible_entry(caller, seq)
        return await self.journal.proof(seq, tree_size)

    async def export(self, caller: Caller, seq: int) -> Export:
        """Entry, proof and the digest it proves against: the newest anchored
        digest when it covers the entry, else the journal's digest now."""
        await self.visible_entry(caller, seq)
        latest = await self.archive.latest()
        if latest is not None and latest.digest.tree_size >= seq:
            try:
                proof = await self.journal.proof(seq, latest.digest.tree_size)
            except TreeSizeOutOfRange:
                raise JournalIntegrity("the journal is shorter than its anchored digest") from None
            if proof.root_hash != latest.digest.root_hash:
                self._broken(Break(latest.digest.tree_size, "anchored-digest", "root differs"))
                raise JournalIntegrity("the journal no longer produces its anchored digest")
            return Export(proof, latest.digest, latest)
        digest = await self.journal.digest()
        proof = await self.journal.proof(seq, digest.tree_size)
        return Export(proof, digest, None)

    async def verify_export(
        self, caller: Caller, entry: EntryDoc, proof: ProofDoc, digest: DigestDoc
    ) -> Verdict:
        """The offline checks, plus: the journal still holds this very entry.

        Only for an entry the caller may see: the *stored* entry's subject
        decides (not the export's claim), and anyone else gets the 404 of an
        unknown entry — the answer would otherwise confirm a guess at another
        tenant's entry. Anyone may still check any export offline with
        ``mindlinks-ledger-verify`` (it needs no account)."""
        checks = verify_bundle(entry, proof, digest)
        try:
            stored = await self.visible_entry(caller, entry.seq)
        except JournalBroken as exc:
            if caller.role != "admin":  # unreadable: its subject cannot be checked
                raise EntryNotFound() from None
            checks.append(Check("journal", False, exc.detail))
        else:
            faults = entry_faults(stored)
            same = stored.entry_hash == entry.entry_hash
            detail = (
                f"the journal's entry {entry.seq} no longer verifies: {faults[0].detail}"
                if faults
                else f"the journal's entry {entry.seq} verifies and has "
                f"{'the same' if same else 'another'} entryHash"
            )
            checks.append(Check("journal", same and not faults, detail))
        claimed = Digest(
            digest.tree_size, digest.root_hash, digest.tip_seq, digest.tip_hash, digest.issued_at
        )
        anchored = await self.archive.find(claimed)
        return Verdict(
            checks,
            {
                "anchored": anchored is not None and anchored.digest == claimed,
                "digestKey": anchored.key if anchored is not None else None,
            },
        )

    async def verify_pdf(self, caller: Caller, contract_id: str, pdf_sha256: str) -> Verdict:
        """Whether a PDF is the one a party signed (or the final one with the
        certificate of completion), and whether the journal is intact."""
        await self.visible_contract(caller, contract_id)
        entries = await self.journal.subject_entries(contract_id)
        matches = [
            {"seq": e.seq, "kind": e.kind, "field": name}
            for e in entries
            for name in pdf_fields_matching(e.data, pdf_sha256)
        ]
        where = ", ".join(f"entry {m['seq']} ({m['kind']}.{m['field']})" for m in matches)
        checks = [
            Check(
                "pdf",
                bool(matches),
                f"the PDF's SHA-256 {pdf_sha256} "
                + (f"is recorded in {where}" if matches else "is not recorded for this contract"),
            )
        ]
        faults = [fault for e in entries for fault in entry_faults(e)]
        checks.append(
            Check(
                "entries",
                not faults,
                f"the contract's {len(entries)} entries re-hash to their recorded hashes"
                if not faults
                else f"entry {faults[0].seq} fails {faults[0].check}: {faults[0].detail}",
            )
        )
        broken, checked_at = await self.verified_journal(self.verify_cache_seconds)
        if broken is None:
            detail = (
                "every entry up to the tip re-hashes and links, and the newest anchored "
                f"digest still matches (verified at {checked_at})"
            )
        elif caller.role == "admin":
            detail = f"broken at entry {broken.seq} ({broken.check}): {broken.detail}"
        else:
            # Where and how another tenant's entry broke is not a party's business.
            detail = f"the journal failed its integrity checks (verified at {checked_at})"
        checks.append(Check("journal", broken is None, detail))
        return Verdict(checks, {"pdfSha256": pdf_sha256, "matches": matches})

    async def verified_journal(self, max_age: float) -> tuple[Break | None, str]:
        """``verify_journal``'s answer no older than ``max_age`` seconds (a full
        verification reads every entry: callers any user can trigger share one)."""
        cached = self._verified
        if cached is not None and time.monotonic() - cached[0] <= max_age:
            return cached[1], cached[2]
        async with self._verifying:
            cached = self._verified
            if cached is not None and time.monotonic() - cached[0] <= max_age:
                return cached[1], cached[2]
            started, at = time.monotonic(), now_iso()
            found = await self.verify_journal()
            self._verified = (started, found, at)
            return found, at

    async def verify_journal(self) -> Break | None:
        """The first broken link of the whole journal, or None (``verification``)."""
        return (await self.verification()).broken

    async def verification(self, read: tuple[Anchored | None, Tip] | None = None) -> Verification:
        """The whole journal: hashes, links, tip and the newest anchored digest
        (``read``: the newest anchored digest and the tip, when just read)."""
        try:
            latest, tip = read if read is not None else (await self.archive.latest(), None)
        except JournalBroken as exc:
            # The anchor itself is unreadable: no entry to blame (seq 0).
            found = Verification(
                await self.journal.tip(), 0, Break(0, "anchored-digest", exc.detail)
            )
        else:
            found = await self.journal.verification(latest.digest if latest else None, tip)
        if found.broken is not None:
            self._broken(found.broken)
        return found

    def _broken(self, found: Break) -> None:
        log.error("ledger.integrity_broken", seq=found.seq, check=found.check, detail=found.detail)
        self.metrics.count("LedgerIntegrityBroken")

    async def anchor(self) -> Anchored:
        """Write the journal's digest to the Object Lock bucket — only after the
        whole journal verified, so no digest ever vouches for a tampered one."""
        async with self._anchoring:
            return await self._anchor()

    async def _anchor(self, read: tuple[Anchored | None, Tip] | None = None) -> Anchored:
        verified = await self.verification(read)
        if verified.broken is not None or verified.digest is None:
            broken = verified.broken or Break(verified.tip.seq, "tip", "no digest")
            raise JournalIntegrity(
                f"not anchoring: entry {broken.seq} fails {broken.check}", broken=broken.as_json()
            )
        # The digest of exactly the entries just verified.
        anchored = await self.archive.put(verified.digest)
        log.info("ledger.digest_anchored", key=anchored.key, tree_size=anchored.digest.tree_size)
        return anchored

    async def anchor_if_grown(self) -> Anchored | None:
        """The periodic task and every activation: anchor a digest when the
        journal grew since the last (one anchoring at a time per process, so
        a burst of triggers anchors once)."""
        async with self._anchoring:
            latest = await self.archive.latest()
            tip = await self.journal.tip()
            if latest is not None and latest.digest.tree_size >= tip.seq:
                return None
            return await self._anchor((latest, tip))

    async def anchor_after_activation(self) -> None:
        """Wake the digest task to anchor the activation just appended. The
        activation never waits for it: anchoring verifies the whole journal
        first, and a burst of activations is anchored once."""
        self.anchor_due.set()
