"""The ledger's internal API: appends (signatures), and the operator's reads,
anchoring and whole-journal verification."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints

from mindlinks_kit.declaration import Call, Lookup
from mindlinks_kit.schemas import ApiModel, Page

Kind = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,63}$")]
Token = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")]
"""Printable ASCII without spaces: subjects (contract ids) and idempotency keys."""


class AppendIn(ApiModel):
    kind: Kind
    subject: Token
    data: dict[str, Any]
    idempotency_key: Token


class AppendOut(ApiModel):
    seq: int
    entry_hash: str
    content_hash: str
    prev_hash: str
    recorded_at: str


class EntryOut(ApiModel):
    seq: int
    kind: str
    subject: str
    data: dict[str, Any]
    recorded_at: str
    idempotency_key: str
    content_hash: str
    prev_hash: str
    entry_hash: str


class DigestOut(ApiModel):
    tree_size: int
    root_hash: str
    tip_seq: int
    tip_hash: str
    issued_at: str


class AnchorOut(ApiModel):
    """Where a digest is anchored: its object in the Object Lock bucket."""

    key: str
    lock_mode: str
    retain_until: str


class AnchoredDigestOut(DigestOut):
    anchor: AnchorOut


class BreakOut(ApiModel):
    seq: int
    check: str
    detail: str


class TipOut(ApiModel):
    seq: int
    hash: str
    recorded_at: str | None
    """``null`` (and ``seq`` 0, a zero ``hash``) for an empty journal."""


class JournalVerifyOut(ApiModel):
    """``GET /internal/ledger/verify``: the whole journal, checked now."""

    ok: bool
    entries: int
    """Entries read and checked, up to the tip (fewer than ``tip.seq`` when some are missing)."""
    tip: TipOut
    first_broken_seq: int | None
    """The first entry that fails (0: the newest anchored digest itself is unreadable)."""
    problem: str | None
    """``<check>: <detail>`` for ``firstBrokenSeq``."""
    intact: bool
    """Same as ``ok`` (kept for earlier callers)."""
    broken: BreakOut | None
    tip_seq: int
    checked_at: str


class InclusionProofOut(ApiModel):
    """An entry's RFC 6962 inclusion proof, by hashes only: the leaf is
    ``SHA-256(0x00 || entryHash)``; nothing of the entry's content."""

    seq: int
    entry_hash: str
    leaf_index: int
    tree_size: int
    audit_path: list[str]
    root_hash: str


APPEND = Call(
    "ledger",
    "POST",
    "/internal/ledger/entries",
    AppendOut,
    callers=("signature",),
    body=AppendIn,
    status=201,
    summary="Append an entry; the same idempotency key answers the same entry (200).",
)
SUBJECT = Call(
    "ledger",
    "GET",
    "/internal/ledger/subjects/{subject}",
    Page[EntryOut],
    callers=("admin",),
    summary="A subject's entries, oldest first.",
)
ENTRIES = Call(
    "ledger",
    "GET",
    "/internal/ledger/entries",
    Page[EntryOut],
    callers=("admin",),
    summary="The journal in seq order (the chain export for auditors).",
)
ANCHOR = Call(
    "ledger",
    "POST",
    "/internal/ledger/digests",
    AnchoredDigestOut,
    callers=("admin",),
    status=201,
    summary="Verify the journal, then anchor its digest in the Object Lock bucket.",
)
VERIFY = Call(
    "ledger",
    "GET",
    "/internal/ledger/verify",
    JournalVerifyOut,
    callers=("admin",),
    summary="Every entry re-hashed and re-linked up to the tip, and the newest anchor.",
)

PROOF = Lookup(
    "ledger",
    "GET",
    "/internal/ledger/entries/{seq}/inclusion",
    InclusionProofOut,
    callers=("signature",),
    summary="An entry's inclusion proof in the journal now, hashes only (public verification).",
)

ROUTES = (APPEND, SUBJECT, ENTRIES, ANCHOR, VERIFY, PROOF)
