"""The ledger rules and values: entry kinds and who may append them, what a
contract's terms schedule, the journal's tip, digests, proofs and
verification results, what an export carries; the problems the use cases
raise. The hash chain is ``chain``'s, the Merkle tree ``merkle``'s, the
checks of an export ``verification``'s.

Pure: no I/O, no FastAPI; ``service`` and ``journal`` apply them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from mindlinks_fleet.events import ScheduleItem
from mindlinks_fleet.internal import ledger
from mindlinks_kit.errors import InvalidInput, NotFound, Problem
from mindlinks_ledger.chain import Break, Entry, canonical_json
from mindlinks_ledger.verification import Check


class InvalidData(InvalidInput):
    code = "invalid-entry-data"
    title = "The entry data has no canonical JSON form"


class KeyReused(InvalidInput):
    code = "idempotency-key-reused"
    title = "This idempotencyKey was used for another entry"


class EntryNotFound(NotFound):
    """Unknown entries and entries the caller may not see answer alike."""


class TreeSizeOutOfRange(InvalidInput):
    code = "tree-size-out-of-range"
    title = "The tree size must cover the entry and not exceed the journal"


class JournalBusy(Problem):
    status = 503
    code = "journal-busy"
    title = "The journal is busy; retry shortly"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail)
        self.headers["Retry-After"] = "1"


class JournalBroken(Problem):
    status = 500
    code = "journal-integrity"
    title = "The journal failed its integrity checks"


class NoDigestYet(NotFound):
    code = "no-digest-yet"
    title = "No digest has been anchored yet"


class ContractNotFound(NotFound):
    """Unknown contracts and contracts the caller is no party to answer alike."""


class ReservedKind(InvalidInput):
    code = "reserved-kind"
    title = "Only the ledger itself appends entries of this kind"


class SignatureWithoutPdfHash(InvalidInput):
    code = "signature-needs-pdf-sha256"
    title = "A signature entry must record data.pdfSha256 (64 lowercase hex digits)"


class InvalidPdf(InvalidInput):
    code = "invalid-pdf"
    title = "pdfBase64 must be base64 of at most the allowed size"


class JournalIntegrity(JournalBroken):
    """Refused: the journal does not verify, so no digest vouches for it."""


class ActivationRefused(Exception):
    """The event cannot activate the contract (retried, then dead-lettered)."""


ACTIVATED = "contract-activated"


SCHEDULED = "payment-scheduled"


SIGNATURE = "signature"


TERMINATED = "terminated"
"""The final state a ``contract-terminated`` entry records."""
EXPIRED = "expired"
"""The final state a ``contract-expired`` entry records (issue 16: the signing deadline passed)."""


STEP_EVENTS = (
    "payment.confirmed",
    "payment.work-submitted",
    "payment.changes-requested",
    "payment.review-reminder",
    "payment.disputed",
    "payment.released",
    "payment.refunded",
    "payment.item-settled",
    "payment.invoice-issued",
    "contract.terminated",
    "contract.amended",
    "contract.expired",
)
"""The events the ledger records as steps (``service.escrow``)."""

CONTRACT_STEP_EVENTS = ("contract.terminated", "contract.amended", "contract.expired")
"""Steps recorded under the contract itself: its early end, each amendment in
force, its expiry unsigned."""


def step_kind(event_name: str) -> str:
    """An event's entry kind: ``payment.work-submitted`` → ``payment-work-submitted``."""
    return event_name.replace(".", "-")


STEP_KINDS = frozenset(step_kind(name) for name in STEP_EVENTS)
ITEM_KINDS = STEP_KINDS - {step_kind(name) for name in CONTRACT_STEP_EVENTS}
"""Kinds whose subject is an escrowed item: the contract is the ``contractId`` they record."""


def contract_of(entry: Entry) -> str:
    """The contract an entry belongs to (whose parties may read it): its
    subject, or for an escrowed item's step the contract the step records."""
    if entry.kind in ITEM_KINDS:
        return str(entry.data.get("contractId", ""))
    return entry.subject


MAX_ITEMS = 90
"""A schedule's events commit in one transaction with the inbox record (100 writes)."""


@dataclass(frozen=True)
class Appended:
    entry: Entry
    created: bool
    same_request: bool
    """False when the key was first used for another kind, subject or data."""


@dataclass(frozen=True)
class Digest:
    tree_size: int
    root_hash: str
    tip_seq: int
    tip_hash: str
    issued_at: str

    def as_json(self) -> dict[str, Any]:
        return {
            "treeSize": self.tree_size,
            "rootHash": self.root_hash,
            "tipSeq": self.tip_seq,
            "tipHash": self.tip_hash,
            "issuedAt": self.issued_at,
        }


@dataclass(frozen=True)
class Verification:
    """A whole-journal check: the tip it covered, how many entries it read up
    to that tip, the first broken link (``None``: intact) and, when intact, the
    digest of exactly what it read (what anchoring writes)."""

    tip: Tip
    entries: int
    broken: Break | None
    digest: Digest | None = None


@dataclass(frozen=True)
class Proof:
    entry: Entry
    leaf_index: int
    tree_size: int
    audit_path: list[str]
    root_hash: str


def fingerprint(kind: str, subject: str, data: dict[str, Any]) -> str:
    return hashlib.sha256(
        canonical_json({"kind": kind, "subject": subject, "data": data})
    ).hexdigest()


@dataclass(frozen=True)
class Tip:
    seq: int
    hash: str
    recorded_at: str


@dataclass(frozen=True)
class Anchored:
    digest: Digest
    key: str
    retain_until: str
    lock_mode: str


def pdf_sha256(pdf_base64: str, max_bytes: int) -> str:
    """SHA-256 of a base64-encoded PDF (CPU-bound: run it off the event loop)."""
    try:
        raw = base64.b64decode(pdf_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidPdf("pdfBase64 is not base64") from None
    if len(raw) > max_bytes:
        raise InvalidPdf(f"the PDF is {len(raw)} bytes; at most {max_bytes}")
    return hashlib.sha256(raw).hexdigest()


class Caller(Protocol):
    """Who asks (``mindlinks_kit.auth.Principal`` is one)."""

    @property
    def user_id(self) -> str: ...

    @property
    def role(self) -> str: ...


APPENDERS = frozenset(ledger.APPEND.callers)
"""Services that may append through ``POST /internal/ledger/entries``: its
declared callers."""


RESERVED_KINDS = frozenset({ACTIVATED, SCHEDULED, *STEP_KINDS})


@dataclass(frozen=True)
class Export:
    proof: Proof
    digest: Digest
    anchored: Anchored | None


@dataclass(frozen=True)
class Verdict:
    checks: list[Check]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def intact(self) -> bool:
        return all(check.ok for check in self.checks)


def _iso_date(value: str) -> str:
    date.fromisoformat(value)
    return value


class _Terms(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


Amount = Annotated[int, Field(strict=True, gt=0, le=2**53 - 1)]


DueDate = Annotated[str, Field(max_length=10), AfterValidator(_iso_date)]


class _Milestone(_Terms):
    title: str = Field(min_length=1, max_length=200)
    amount_minor: Amount
    due_date: DueDate


class _Fixed(_Terms):
    kind: Literal["fixed"]
    amount_minor: Amount
    due_date: DueDate


class _Milestones(_Terms):
    kind: Literal["milestones"]
    milestones: list[_Milestone] = Field(min_length=1, max_length=MAX_ITEMS)


class _AnyTerms(BaseModel):
    terms: _Fixed | _Milestones = Field(discriminator="kind")


def schedule_from_terms(contract_id: str, title: str, terms: Any) -> list[ScheduleItem]:
    """``fixed`` → one item titled like the contract; ``milestones`` → one per
    milestone. Item ids are ``<contractId>-<index>``, counted from 0."""
    try:
        parsed = _AnyTerms.model_validate({"terms": terms}).terms
    except ValidationError as exc:
        raise ActivationRefused(f"unusable terms: {exc.errors()[:3]}") from None
    if isinstance(parsed, _Fixed):
        parts = [(title or "Contract", parsed.amount_minor, parsed.due_date)]
    else:
        parts = [(m.title, m.amount_minor, m.due_date) for m in parsed.milestones]
    return [
        ScheduleItem(item_id=f"{contract_id}-{i}", title=t, amount_minor=a, due_date=d)
        for i, (t, a, d) in enumerate(parts)
    ]
