"""Verifying an exported entry against a digest, without the journal: pure.

An export is ``{entry, proof, digest}``: the entry, its audit path in the
Merkle tree of ``treeSize`` entries, and the digest ``{treeSize, rootHash,
tipSeq, tipHash, issuedAt}`` it proves against (ideally one anchored in the
Object Lock bucket, or one the auditor kept). ``POST /v1/ledger/verify`` and
the ``mindlinks-ledger-verify`` CLI run the same checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from mindlinks_ledger import merkle
from mindlinks_ledger.chain import Entry, entry_faults

Hex64 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


def _whole(value: Any) -> Any:
    """A JSON number with no fractional part (``3.0``) is an integer to JSON
    Schema; the strict model takes it as that integer (``make fuzz`` found it
    schema-valid and refused)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Whole = Annotated[int, BeforeValidator(_whole)]
PDF_FIELDS = ("pdfSha256", "finalPdfSha256")
"""Entry data fields that record the SHA-256 of a signed PDF."""


class _Doc(BaseModel):
    """Tolerant of extra fields (an export carries more than the checks need),
    strict about the ones it reads."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        serialize_by_alias=True,
        strict=True,
    )


class EntryDoc(_Doc):
    seq: Whole = Field(ge=1, le=2**53)
    kind: str = Field(max_length=64)
    subject: str = Field(max_length=200)
    data: dict[str, Any]
    recorded_at: str = Field(max_length=64)
    idempotency_key: str | None = Field(default=None, max_length=256)
    content_hash: Hex64
    prev_hash: Hex64
    entry_hash: Hex64

    def entry(self) -> Entry:
        return Entry(
            seq=self.seq,
            kind=self.kind,
            subject=self.subject,
            data=self.data,
            recorded_at=self.recorded_at,
            idempotency_key=self.idempotency_key or "",
            content_hash=self.content_hash,
            prev_hash=self.prev_hash,
            entry_hash=self.entry_hash,
        )

    @classmethod
    def of(cls, entry: Entry) -> EntryDoc:
        return cls.model_validate(entry.as_json())


class ProofDoc(_Doc):
    leaf_index: Whole = Field(ge=0, le=2**53)
    tree_size: Whole = Field(ge=1, le=2**53)
    audit_path: list[Hex64] = Field(max_length=64)
    root_hash: Hex64


class DigestDoc(_Doc):
    tree_size: Whole = Field(ge=0, le=2**53)
    root_hash: Hex64
    tip_seq: Whole = Field(ge=0, le=2**53)
    tip_hash: Hex64
    issued_at: str = Field(max_length=64)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def pdf_fields_matching(data: dict[str, Any], sha256: str) -> list[str]:
    """The entry data fields recording this PDF hash."""
    return [name for name in PDF_FIELDS if data.get(name) == sha256]


def verify_bundle(
    entry_doc: EntryDoc,
    proof: ProofDoc,
    digest: DigestDoc,
    pdf_sha256: str | None = None,
) -> list[Check]:
    """Every check an auditor needs: the entry's own hashes, its place in the
    tree, the tree's root against the digest, and optionally a PDF's hash."""
    entry = entry_doc.entry()
    faults = {fault.check: fault.detail for fault in entry_faults(entry)}
    checks = [
        Check(
            "content-hash",
            "content-hash" not in faults,
            faults.get("content-hash", "contentHash is the SHA-256 of the entry's content"),
        ),
        Check(
            "entry-hash",
            "entry-hash" not in faults,
            faults.get("entry-hash", "entryHash = SHA-256(prevHash || contentHash)"),
        ),
        Check(
            "leaf-index",
            proof.leaf_index == entry.seq - 1,
            f"entry {entry.seq} is leaf {entry.seq - 1}; the proof is for leaf {proof.leaf_index}",
        ),
    ]
    same_tree = proof.tree_size == digest.tree_size and proof.root_hash == digest.root_hash
    checks.append(
        Check(
            "digest",
            same_tree and digest.tip_seq == digest.tree_size,
            f"the proof is for a tree of {proof.tree_size} with root {proof.root_hash}; "
            f"the digest covers {digest.tree_size} entries (tip {digest.tip_seq}) "
            f"with root {digest.root_hash}",
        )
    )
    included = merkle.verify_inclusion(
        merkle.leaf_hash(bytes.fromhex(entry.entry_hash)),
        proof.leaf_index,
        digest.tree_size,
        [bytes.fromhex(h) for h in proof.audit_path],
        bytes.fromhex(digest.root_hash),
    )
    checks.append(
        Check(
            "inclusion",
            included,
            f"the audit path {'leads' if included else 'does not lead'} from entry "
            f"{entry.seq} to the digest's root over {digest.tree_size} entries",
        )
    )
    if entry.seq == digest.tip_seq:
        checks.append(
            Check(
                "tip",
                entry.entry_hash == digest.tip_hash,
                "the entry is the digest's tip: its entryHash must be the tipHash",
            )
        )
    if pdf_sha256 is not None:
        matching = pdf_fields_matching(entry.data, pdf_sha256)
        checks.append(
            Check(
                "pdf",
                bool(matching),
                f"the PDF's SHA-256 {pdf_sha256} "
                + (f"is the entry's {matching[0]}" if matching else "is not recorded in the entry"),
            )
        )
    return checks
