"""The contract rules: who may draft a contract with whom, the status machine
(docs/lifecycle.md) and who may move it, how an active contract ends. Money,
payment lines, the escrow terms and template text are ``terms``'.

No FastAPI here; routes and consumers commit the unit of work, never this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from mindlinks_contract.signing import (
    REMINDER_AFTER_DAYS,
    REMINDER_EVERY_DAYS,
    SIGNING_DAYS,
    Cadence,
    DeadlinePassed,
    Signer,
    next_signer,
)
from mindlinks_contract.terms import NOTICE_DAYS, REVIEW_DAYS
from mindlinks_fleet.internal.contract import Status
from mindlinks_kit.errors import Conflict, Forbidden, InvalidInput, NotFound


class CompanyNotActive(Conflict):
    code = "company-not-active"
    title = "Your company must be registered and active to draft contracts"


class ContractorNotFound(NotFound):
    """Unknown contractors and contractors not engaged with the caller's company
    answer alike: the caller learns nothing about other companies' contractors."""

    code = "contractor-not-found"
    title = "No such contractor works with your company"


class ContractorNotVerified(Conflict):
    code = "contractor-not-verified"
    title = "The contractor has not passed identity verification (KYC) yet"


class ContractNotFound(NotFound):
    """Unknown and foreign contracts answer alike."""

    code = "contract-not-found"
    title = "Contract not found"


class TemplateNotFound(NotFound):
    code = "template-not-found"
    title = "Template not found"


class DocumentNotFound(NotFound):
    code = "document-not-found"
    title = "This document does not exist (yet)"


class InvalidTransition(Conflict):
    code = "invalid-transition"
    title = "The contract cannot move to that status from its current one"


class FinalDocumentMissing(Conflict):
    code = "final-document-missing"
    title = "A contract is fully signed only once its final document is stored"


class FinalDocumentLocked(Conflict):
    code = "final-document-locked"
    title = "The final document can no longer be replaced"


class NotAPdf(InvalidInput):
    code = "not-a-pdf"
    title = "The body must be a PDF document"


class ServiceNotAllowed(Forbidden):
    code = "service-not-allowed"
    title = "This service may not call this route"


class ContractNotDraft(Conflict):
    code = "contract-not-draft"
    title = "Only a draft's terms can change: once sent, the document is what is signed"


class TerminationScheduled(Conflict):
    code = "termination-already-scheduled"
    title = "This contract's termination is already scheduled; only ending it at once is left"


STATUSES: tuple[Status, ...] = (
    "draft",
    "sent_for_signature",
    "client_signed",
    "fully_signed",
    "active",
    "completed",
    "declined",
    "voided",
    "terminated",
    "expired",
)

TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    "draft": frozenset({"sent_for_signature", "voided"}),
    "sent_for_signature": frozenset({"client_signed", "declined", "voided", "expired"}),
    "client_signed": frozenset({"fully_signed", "declined", "voided", "expired"}),
    "fully_signed": frozenset({"active"}),
    "active": frozenset({"completed", "terminated"}),
    "completed": frozenset(),
    "declined": frozenset(),
    "voided": frozenset(),
    "terminated": frozenset(),
    "expired": frozenset(),
}
"""The status machine of docs/lifecycle.md: these transitions and no others."""

SIGNATURE_TRANSITIONS: frozenset[tuple[Status, Status]] = frozenset(
    {
        ("sent_for_signature", "client_signed"),
        ("client_signed", "fully_signed"),
        ("sent_for_signature", "declined"),
        ("client_signed", "declined"),
    }
)
"""The transitions the signature service drives (``POST /internal/.../transitions``)."""

SIGNATURE_SERVICE = "signature"


@dataclass(frozen=True)
class Company:
    id: str
    legal_name: str
    status: str
    owner_user_id: str


@dataclass(frozen=True)
class Contractor:
    id: str
    user_id: str
    email: str
    kyc_status: str
    company_ids: tuple[str, ...]
    verified_legal_name: str | None = None
    """The legal name KYC established (``None`` unless verified). A contract
    names its contractor by this only: the profile's other names are theirs
    to edit."""


@dataclass(frozen=True)
class ContractorParty:
    """A contractor a contract may name: engaged, verified, by their verified name."""

    id: str
    user_id: str
    email: str
    legal_name: str


@dataclass(frozen=True)
class Template:
    id: str
    company_id: str
    name: str
    body: str
    created_by_user_id: str
    created_at: str


@dataclass(frozen=True)
class Change:
    """One entry of a contract's history."""

    from_status: Status
    to_status: Status
    at: str
    actor_user_id: str | None
    reason: str | None = None
    actor_service: str | None = None


Side = Literal["client", "contractor"]


@dataclass(frozen=True)
class Termination:
    """A party's request to end an active contract."""

    reason: str
    by_user_id: str
    by_side: Side
    requested_at: str


@dataclass(frozen=True)
class Reader:
    """Who reads: a member of a company (``company_id``), a contractor or an
    admin (``company_id`` ``None``)."""

    user_id: str
    role: str
    company_id: str | None = None


@dataclass(frozen=True)
class Contract:
    id: str
    status: Status
    title: str
    description: str
    currency: str
    start_date: str
    terms: dict[str, Any]
    total_minor: int
    template_id: str | None
    client_company_id: str
    client_user_id: str
    client_name: str
    contractor_id: str
    contractor_user_id: str
    contractor_name: str
    pdf_key: str
    pdf_sha256: str
    created_at: str
    updated_at: str
    final_pdf_key: str | None = None
    final_pdf_sha256: str | None = None
    activated_at: str | None = None
    ledger_entry_id: int | None = None
    completed_at: str | None = None
    review_days: int = REVIEW_DAYS
    notice_days: int = NOTICE_DAYS
    termination: Termination | None = None
    termination_ends_at: str | None = None
    """Set while a termination's notice runs (the contract is still ``active``)."""
    terminated_at: str | None = None
    signing_days: int = SIGNING_DAYS
    reminder_after_days: int = REMINDER_AFTER_DAYS
    reminder_every_days: int = REMINDER_EVERY_DAYS
    sent_at: str | None = None
    sent_by_user_id: str | None = None
    signing_deadline: str | None = None
    """Set when sent: ``sent_at`` + ``signing_days``, or what the client extended it to."""
    next_reminder_at: str | None = None
    """The next scheduled reminder while one is left before the deadline."""
    reminders_sent: int = 0
    """Reminders so far, scheduled and manual: the next one's number is this + 1."""
    last_reminder_at: str | None = None
    expired_at: str | None = None
    end_date: str | None = None
    """The last day of the work, when the contract gives one (due dates fall before)."""
    terms_version: int = 1
    """1: the terms as first signed; each amendment in force adds one (ADR 0017)."""
    item_ids: tuple[str, ...] = ()
    """The payment items of ``terms``' lines once an amendment named them
    (empty: as activation named them, ``<id>-<index>``)."""
    open_amendment: int | None = None
    """The amendment still to be signed, if any (one at a time)."""
    amendments_proposed: int = 0
    """Amendments so far, in any status: the next one's number is this + 1."""
    history: tuple[Change, ...] = field(default_factory=tuple)
    version: int = 1

    @property
    def cadence(self) -> Cadence:
        return Cadence(self.signing_days, self.reminder_after_days, self.reminder_every_days)

    def signer(self) -> Signer | None:
        """Whoever must sign next (``None``: no signature is awaited)."""
        return next_signer(
            self.status,
            sent_by_user_id=self.sent_by_user_id or self.client_user_id,
            contractor_user_id=self.contractor_user_id,
        )

    def is_party(self, user_id: str) -> bool:
        return user_id in (self.client_user_id, self.contractor_user_id)

    def visible_to(self, reader: Reader) -> bool:
        """Its client company's members (whoever drafted it), its contractor, admins."""
        if reader.role == "admin":
            return True
        if reader.company_id is not None:
            return reader.company_id == self.client_company_id
        return reader.role == "contractor" and reader.user_id == self.contractor_user_id

    def moved(
        self,
        to: Status,
        *,
        at: str,
        actor_user_id: str | None,
        reason: str | None = None,
        actor_service: str | None = None,
        **changes: Any,
    ) -> Contract:
        """This contract in status ``to``, if the status machine allows it."""
        if to not in TRANSITIONS[self.status]:
            raise InvalidTransition(f"A {self.status} contract cannot become {to}")
        change = Change(self.status, to, at, actor_user_id, reason, actor_service)
        return replace(
            self,
            status=to,
            updated_at=at,
            history=(*self.history, change),
            version=self.version + 1,
            **changes,
        )

    def already_moved_by(self, to: Status, actor_user_id: str) -> bool:
        """Whether the last change was exactly this one (a caller retrying after a crash)."""
        last = self.history[-1] if self.history else None
        return (
            self.status == to
            and last is not None
            and last.to_status == to
            and last.actor_user_id == actor_user_id
        )

    def side_of(self, reader: Reader) -> Side | None:
        """Which party ``reader`` acts for: a member of its client company
        (whose role the route checked) or its contractor; ``None``: neither."""
        if reader.company_id is not None:
            return "client" if reader.company_id == self.client_company_id else None
        if reader.role == "contractor" and reader.user_id == self.contractor_user_id:
            return "contractor"
        return None

    def notice_end(self, *, at_once: bool, now: datetime) -> datetime | None:
        """When a termination asked for now ends this contract; ``None``: at once.

        Only an ``active`` contract ends early. While a notice runs, a second
        request may only end it at once (shorten the notice); anything else
        would move a date the other party has already been told."""
        if self.status != "active":
            raise InvalidTransition(f"A {self.status} contract cannot be terminated")
        if self.termination_ends_at is not None and not at_once:
            raise TerminationScheduled(
                f"It ends on {self.termination_ends_at}; ask to end it at once (atOnce) instead"
            )
        if at_once or self.notice_days == 0:
            return None
        return now + timedelta(days=self.notice_days)

    def with_notice(self, termination: Termination, ends_at: str) -> Contract:
        """Still ``active``, ending on ``ends_at``."""
        return replace(
            self,
            termination=termination,
            termination_ends_at=ends_at,
            updated_at=termination.requested_at,
            version=self.version + 1,
        )

    def terminated(self, termination: Termination, *, at: str) -> Contract:
        """``terminated`` as ``termination`` asked (at once, or when its notice ran out)."""
        return self.moved(
            "terminated",
            at=at,
            actor_user_id=termination.by_user_id,
            reason=termination.reason,
            termination=termination,
            termination_ends_at=None,
            terminated_at=at,
        )


def owned_by(contract: Contract | None, company_id: str) -> Contract:
    """``contract`` if it is the company's (whichever member drafted it);
    an unknown and another company's contract answer alike."""
    if contract is None or contract.client_company_id != company_id:
        raise ContractNotFound()
    return contract


def signature_may_move(contract: Contract, to: Status) -> None:
    if contract.status == "expired":
        raise DeadlinePassed(f"The signing deadline was {contract.signing_deadline}")
    if (contract.status, to) not in SIGNATURE_TRANSITIONS:
        raise InvalidTransition(f"The signature service cannot move {contract.status} to {to}")
    if to == "fully_signed" and contract.final_pdf_sha256 is None:
        raise FinalDocumentMissing()


def final_document_accepted(contract: Contract, sha256: str) -> bool:
    """Whether the final document may be (re)stored: replaced freely while the
    contractor's signature is in progress; afterwards only the same bytes
    (a retry) are accepted, and they change nothing. Returns whether to write."""
    if contract.status == "expired":
        raise DeadlinePassed(f"The signing deadline was {contract.signing_deadline}")
    return final_replaceable(contract.status, contract.final_pdf_sha256, sha256)


def final_replaceable(status: str, stored: str | None, sha256: str) -> bool:
    """The rule for a contract's or an amendment's final document: whether to
    write ``sha256`` over ``stored`` (``client_signed``: the contractor's
    signature is under way), or refuse it once that is done."""
    if status == "client_signed":
        return stored != sha256
    if stored == sha256:
        return False
    raise FinalDocumentLocked(f"Once {status.replace('_', ' ')}, the final document is fixed")


def company_for_drafting(company: Company | None) -> Company:
    if company is None:
        raise CompanyNotActive("You have no registered company")
    if company.status != "active":
        raise CompanyNotActive(f"Your company is {company.status}, not active")
    return company


def contractor_for(company: Company, contractor: Contractor | None) -> ContractorParty:
    if contractor is None or company.id not in contractor.company_ids:
        raise ContractorNotFound()
    if contractor.kyc_status != "verified" or not contractor.verified_legal_name:
        raise ContractorNotVerified()
    return ContractorParty(
        id=contractor.id,
        user_id=contractor.user_id,
        email=contractor.email,
        legal_name=contractor.verified_legal_name,
    )


PdfKind = Literal["original", "final"]


def document_key(contract_id: str, kind: PdfKind) -> str:
    return f"contracts/{contract_id}/{kind}.pdf"


def redrafted_key(contract_id: str, version: int) -> str:
    """Where a draft's re-rendered original goes: never over the first one,
    which the commit of the change might not follow (``document_key``'s
    object is the original only while the contract names it)."""
    return f"contracts/{contract_id}/original-v{version}.pdf"
