"""The ledger's request and response bodies (camelCase on the wire)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, model_validator

from mindlinks_fleet.internal.ledger import (
    AnchoredDigestOut,
    AnchorOut,
    AppendOut,
    BreakOut,
    DigestOut,
    EntryOut,
    JournalVerifyOut,
    TipOut,
)
from mindlinks_kit.schemas import ApiModel, Id
from mindlinks_ledger.chain import Break, Entry
from mindlinks_ledger.domain import Anchored, Digest, Proof, Verification
from mindlinks_ledger.verification import Check, DigestDoc, EntryDoc, Hex64, ProofDoc

MAX_PDF_BASE64 = 36 * 1024 * 1024
BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
"""Standard padded base64, as ``pdf_sha256`` decodes it (documented; it refuses
anything else with 422 ``invalid-pdf``)."""


class ProofPart(ApiModel):
    leaf_index: int
    tree_size: int
    audit_path: list[str]
    root_hash: str

    @classmethod
    def of(cls, proof: Proof) -> ProofPart:
        return cls.model_validate(proof, from_attributes=True)


class ProofOut(ProofPart):
    entry: EntryOut

    @classmethod
    def full(cls, proof: Proof) -> ProofOut:
        return cls(**ProofPart.of(proof).model_dump(), entry=entry_out(proof.entry))


class ExportOut(ApiModel):
    """What ``mindlinks-ledger-verify proof --bundle`` checks offline."""

    entry: EntryOut
    proof: ProofPart
    digest: DigestOut
    anchor: AnchorOut | None = Field(
        description="The digest's object in the Object Lock bucket; null when no anchored "
        "digest covers the entry yet (the digest is then the journal's digest now)"
    )


class ConsistencyOut(ApiModel):
    first_size: int
    second_size: int
    first_root: str
    second_root: str
    consistency_path: list[str]


def _one_of_three_shapes(schema: dict[str, Any]) -> None:
    """The either/or ``_one_mode`` enforces, in the JSON schema too: exactly one
    of three shapes, each with its own fields present and not null and no other's."""

    def shape(*given: str) -> dict[str, Any]:
        others = [name for name in _VERIFY_FIELDS if name not in given]
        return {
            "required": list(given),
            "properties": {name: {"not": {"type": "null"}} for name in given},
            "not": {"anyOf": [{"required": [name]} for name in others]},
        }

    schema["oneOf"] = [
        shape("entry", "proof", "digest"),
        shape("contractId", "pdfBase64"),
        shape("contractId", "pdfSha256"),
    ]


_VERIFY_FIELDS = ("entry", "proof", "digest", "contractId", "pdfBase64", "pdfSha256")


class VerifyIn(ApiModel):
    """Either ``{entry, proof, digest}`` (an export) or ``{contractId, pdfBase64 |
    pdfSha256}``. Extra fields are ignored, so an export can be posted as is."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=_one_of_three_shapes)

    entry: EntryDoc | None = None
    proof: ProofDoc | None = None
    digest: DigestDoc | None = None
    contract_id: Id | None = None
    pdf_base64: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PDF_BASE64,
        json_schema_extra={"pattern": BASE64},
    )
    pdf_sha256: Hex64 | None = None

    @model_validator(mode="after")
    def _one_mode(self) -> VerifyIn:
        export = (self.entry, self.proof, self.digest)
        pdf = self.contract_id is not None or self.pdf_base64 or self.pdf_sha256
        if all(part is not None for part in export) and not pdf:
            return self
        if any(part is not None for part in export):
            raise ValueError("give all of entry, proof and digest (and nothing else)")
        if self.contract_id is None or (self.pdf_base64 is None) == (self.pdf_sha256 is None):
            raise ValueError(
                "give {entry, proof, digest} or {contractId, and one of pdfBase64, pdfSha256}"
            )
        return self


class CheckOut(ApiModel):
    name: str
    ok: bool
    detail: str

    @classmethod
    def of(cls, check: Check) -> CheckOut:
        return cls.model_validate(check, from_attributes=True)


class MatchOut(ApiModel):
    seq: int
    kind: str
    field: str


class VerifyOut(ApiModel):
    intact: bool
    checks: list[CheckOut]
    anchored: bool | None = None
    """Export mode: whether the digest is one anchored in the Object Lock bucket."""
    digest_key: str | None = None
    pdf_sha256: str | None = None
    matches: list[MatchOut] | None = None


def append_out(entry: Entry) -> AppendOut:
    return AppendOut.model_validate(entry, from_attributes=True)


def entry_out(entry: Entry) -> EntryOut:
    return EntryOut.model_validate(entry.as_json())


def digest_out(digest: Digest) -> DigestOut:
    return DigestOut.model_validate(digest.as_json())


def anchor_out(anchored: Anchored) -> AnchorOut:
    return AnchorOut.model_validate(anchored, from_attributes=True)


def anchored_digest_out(anchored: Anchored) -> AnchoredDigestOut:
    return AnchoredDigestOut(
        **digest_out(anchored.digest).model_dump(), anchor=anchor_out(anchored)
    )


def journal_verify_out(verification: Verification, checked_at: str) -> JournalVerifyOut:
    tip, broken = verification.tip, verification.broken
    return JournalVerifyOut(
        ok=broken is None,
        entries=verification.entries,
        tip=TipOut(seq=tip.seq, hash=tip.hash, recorded_at=tip.recorded_at or None),
        first_broken_seq=broken.seq if broken else None,
        problem=f"{broken.check}: {broken.detail}" if broken else None,
        intact=broken is None,
        broken=_break_out(broken) if broken else None,
        tip_seq=tip.seq,
        checked_at=checked_at,
    )


def _break_out(found: Break) -> BreakOut:
    return BreakOut.model_validate(found, from_attributes=True)
