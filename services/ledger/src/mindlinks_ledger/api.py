"""Ledger routes: thin — parse, authorize, call the domain, respond."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from mindlinks_fleet.internal import ledger
from mindlinks_fleet.internal.ledger import (
    AnchoredDigestOut,
    AppendIn,
    AppendOut,
    DigestOut,
    EntryOut,
    InclusionProofOut,
    JournalVerifyOut,
    Token,
)
from mindlinks_kit.auth import CurrentUser, Internal
from mindlinks_kit.clock import now_iso
from mindlinks_kit.internal import serve
from mindlinks_kit.schemas import Cursor, Id, Limit, Page
from mindlinks_ledger.deps import Deps
from mindlinks_ledger.domain import NoDigestYet, pdf_sha256
from mindlinks_ledger.schemas import (
    CheckOut,
    ConsistencyOut,
    ExportOut,
    MatchOut,
    ProofOut,
    ProofPart,
    VerifyIn,
    VerifyOut,
    anchor_out,
    anchored_digest_out,
    append_out,
    digest_out,
    entry_out,
    journal_verify_out,
)

public = APIRouter(prefix="/v1/ledger", tags=["ledger"])
internal = APIRouter()
dev = APIRouter(prefix="/v1/ledger/dev", tags=["dev"])

Seq = Annotated[int, Path(ge=1, le=2**53)]


@public.get("/contracts/{contract_id}/history")
async def contract_history(
    contract_id: Id, user: CurrentUser, deps: Deps, limit: Limit = 50, cursor: Cursor = None
) -> Page[EntryOut]:
    """The contract's journal entries, oldest first (its parties and admins)."""
    scope = f"history:{contract_id}:{user.user_id}"
    start = deps.runtime.cursors.decode(cursor, scope)
    entries, last = await deps.ledger.history(user, contract_id, limit, start)
    return Page(
        items=[entry_out(e) for e in entries],
        next_cursor=deps.runtime.cursors.encode(last, scope),
    )


@public.get("/escrow/{escrow_id}/history")
async def escrow_history(
    escrow_id: Id, user: CurrentUser, deps: Deps, limit: Limit = 50, cursor: Cursor = None
) -> Page[EntryOut]:
    """An escrowed item's steps, oldest first: funded, submitted, changes
    requested, reminded, disputed, released or refunded, settled, invoiced
    (its contract's parties and admins; anyone else: 404)."""
    scope = f"escrow-history:{escrow_id}:{user.user_id}"
    start = deps.runtime.cursors.decode(cursor, scope)
    entries, last = await deps.ledger.item_history(user, escrow_id, limit, start)
    return Page(
        items=[entry_out(e) for e in entries],
        next_cursor=deps.runtime.cursors.encode(last, scope),
    )


@public.get("/digest")
async def current_digest(user: CurrentUser, deps: Deps) -> DigestOut:
    """The journal's digest (not yet anchored): Merkle root and tip, computed at
    most once per ``DIGEST_CACHE_SECONDS`` for every caller."""
    return digest_out(await deps.journal.published_digest())


@public.get("/digests/latest")
async def latest_digest(user: CurrentUser, deps: Deps) -> AnchoredDigestOut:
    """The newest digest anchored in the Object Lock bucket."""
    anchored = await deps.archive.latest()
    if anchored is None:
        raise NoDigestYet()
    return anchored_digest_out(anchored)


@public.get("/entries/{seq}/proof")
async def entry_proof(
    seq: Seq,
    user: CurrentUser,
    deps: Deps,
    tree_size: Annotated[int | None, Query(alias="treeSize", ge=1, le=2**53)] = None,
) -> ProofOut:
    """The entry's audit path in the tree of ``treeSize`` entries (default: all)."""
    return ProofOut.full(await deps.ledger.proof(user, seq, tree_size))


@public.get("/entries/{seq}/export")
async def entry_export(seq: Seq, user: CurrentUser, deps: Deps) -> ExportOut:
    """``{entry, proof, digest}`` for ``mindlinks-ledger-verify proof --bundle``."""
    export = await deps.ledger.export(user, seq)
    return ExportOut(
        entry=entry_out(export.proof.entry),
        proof=ProofPart.of(export.proof),
        digest=digest_out(export.digest),
        anchor=anchor_out(export.anchored) if export.anchored else None,
    )


@public.get("/consistency")
async def consistency(
    user: CurrentUser,
    deps: Deps,
    first: Annotated[int, Query(ge=0, le=2**53)],
    second: Annotated[int, Query(ge=0, le=2**53)],
) -> ConsistencyOut:
    """Proof that the tree of ``first`` entries is a prefix of the tree of
    ``second`` (an auditor's old digest against a newer one)."""
    path, first_root, second_root = await deps.journal.consistency(first, second)
    return ConsistencyOut(
        first_size=first,
        second_size=second,
        first_root=first_root,
        second_root=second_root,
        consistency_path=path,
    )


@public.post("/verify")
async def verify(body: VerifyIn, user: CurrentUser, deps: Deps) -> VerifyOut:
    """An export (``{entry, proof, digest}``) of an entry the caller may see (else
    404, as for an unknown entry), or a PDF against a contract's entries."""
    if body.entry is not None and body.proof is not None and body.digest is not None:
        verdict = await deps.ledger.verify_export(user, body.entry, body.proof, body.digest)
        return VerifyOut(
            intact=verdict.intact,
            checks=[CheckOut.of(c) for c in verdict.checks],
            anchored=verdict.extra["anchored"],
            digest_key=verdict.extra["digestKey"],
        )
    assert body.contract_id is not None  # the schema allows only the two shapes
    sha256 = body.pdf_sha256
    if sha256 is None:
        sha256 = await asyncio.to_thread(
            pdf_sha256, body.pdf_base64 or "", deps.settings.max_pdf_bytes
        )
    verdict = await deps.ledger.verify_pdf(user, body.contract_id, sha256)
    return VerifyOut(
        intact=verdict.intact,
        checks=[CheckOut.of(c) for c in verdict.checks],
        pdf_sha256=sha256,
        matches=[MatchOut.model_validate(m) for m in verdict.extra["matches"]],
    )


@serve(internal, ledger.APPEND)
async def append_entry(
    body: AppendIn, caller: Internal, deps: Deps, response: Response
) -> AppendOut:
    """Append (callers: signature, admin). The same idempotencyKey answers the
    same entry (200); with another kind, subject or data it is a 422."""
    appended = await deps.ledger.append(
        caller.service, body.kind, body.subject, body.data, body.idempotency_key
    )
    if not appended.created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return append_out(appended.entry)


@serve(internal, ledger.PROOF)
async def inclusion_proof(seq: Seq, deps: Deps) -> InclusionProofOut:
    """An entry's inclusion proof in the journal now, by hashes only: the
    signature service's public verify-by-upload shows it to whoever holds the
    sealed PDF, whose certificate page prints the entry's hash (not its content)."""
    proof = await deps.journal.proof(seq)
    return InclusionProofOut(
        seq=proof.entry.seq,
        entry_hash=proof.entry.entry_hash,
        leaf_index=proof.leaf_index,
        tree_size=proof.tree_size,
        audit_path=proof.audit_path,
        root_hash=proof.root_hash,
    )


@serve(internal, ledger.SUBJECT)
async def subject_entries(
    subject: Token, caller: Internal, deps: Deps, limit: Limit = 100, cursor: Cursor = None
) -> Page[EntryOut]:
    """A subject's entries (a contract's: its signatures, activation, schedule
    and early end; an escrowed item's: its money steps), oldest first."""
    scope = f"subject:{subject}:{caller.service}"
    start = deps.runtime.cursors.decode(cursor, scope)
    entries, last = await deps.journal.subject_page(subject, limit, start)
    return Page(
        items=[entry_out(e) for e in entries],
        next_cursor=deps.runtime.cursors.encode(last, scope),
    )


@serve(internal, ledger.ENTRIES)
async def journal_entries(
    deps: Deps,
    from_seq: Annotated[int, Query(alias="fromSeq", ge=1, le=2**53)] = 1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> Page[EntryOut]:
    """The journal in seq order (ops: the ``chain`` export for auditors). The
    next page starts at ``fromSeq = nextCursor``."""
    tip = await deps.journal.tip()
    last = min(tip.seq, from_seq + limit - 1)
    entries = await deps.journal.range(from_seq, last) if from_seq <= last else []
    return Page(
        items=[entry_out(e) for e in entries],
        next_cursor=str(last + 1) if last < tip.seq else None,
    )


@serve(internal, ledger.ANCHOR)
async def anchor_digest(deps: Deps) -> AnchoredDigestOut:
    """Verify the journal, then anchor its digest in the Object Lock bucket."""
    return anchored_digest_out(await deps.ledger.anchor())


@serve(internal, ledger.VERIFY)
async def verify_journal(deps: Deps) -> JournalVerifyOut:
    """Every entry re-hashed and re-linked up to the tip, and the newest
    anchored digest checked: the first broken link, if any."""
    checked_at = now_iso()
    return journal_verify_out(await deps.ledger.verification(), checked_at)


@dev.post("/digests", status_code=201)
async def dev_anchor_digest(deps: Deps) -> AnchoredDigestOut:
    """Local mode only: anchor a digest now (what the periodic task does)."""
    return anchored_digest_out(await deps.ledger.anchor())
