"""The event catalog: every event's name, producer and payload, once.

Consumers are declared on each service (``Service.consumes``) and each
service's ``events.py`` maps them to handlers; the app factory refuses to
start when the two disagree. Payloads carry ids, never secrets (events are
archived): a token travels only in the synchronous call that mails it.
"""

from __future__ import annotations

from typing import Literal

from mindlinks_kit.declaration import Event
from mindlinks_kit.schemas import ApiModel

Role = Literal["client", "contractor", "admin"]
CompanyStatus = Literal["active", "pending_review", "rejected"]


class UserCreated(ApiModel):
    user_id: str
    email: str
    name: str
    role: Role


class UserUpdated(ApiModel):
    user_id: str
    changed: list[str]


class UserSuspended(ApiModel):
    user_id: str
    reason: str


class UserUnsuspended(ApiModel):
    user_id: str


class SessionEnded(ApiModel):
    """A signed-in session ended (logout, a reused refresh token, a password
    reset): its access tokens are refused fleet-wide from now on."""

    session_id: str
    user_id: str
    reason: str


class CompanyRegistered(ApiModel):
    company_id: str
    owner_user_id: str
    legal_name: str
    jurisdiction_code: str
    company_number: str
    status: CompanyStatus
    name_mismatch: bool = False


class CompanyMemberChanged(ApiModel):
    """A member added, re-roled or removed. ``role`` is the new role (``None``
    once removed), ``previousRole`` the one before (``None`` when added)."""

    company_id: str
    company_name: str
    user_id: str
    role: str | None
    previous_role: str | None
    actor_user_id: str
    """Who made the change (the member themself, accepting an invitation)."""


class CompanyReviewed(ApiModel):
    """An admin's decision on a company held for registry review."""

    company_id: str
    owner_user_id: str
    legal_name: str
    decision: Literal["approved", "rejected"]
    reason: str | None = None


class CompanyClaimContested(ApiModel):
    """Another account claimed the registry number of an active company: the
    claim is held for an admin, and the active company's owner is told."""

    company_id: str
    """The active company holding the number."""
    owner_user_id: str
    """Its owner, who is told."""
    legal_name: str
    jurisdiction_code: str
    company_number: str
    claim_company_id: str
    """The claim held for review."""
    claim_owner_user_id: str


class InvitationCreated(ApiModel):
    invitation_id: str
    company_id: str
    company_name: str
    email: str
    invited_by_user_id: str
    expires_at: str


class InvitationAccepted(ApiModel):
    invitation_id: str
    company_id: str
    contractor_id: str
    contractor_user_id: str
    invited_by_user_id: str


class ContractorCreated(ApiModel):
    contractor_id: str
    user_id: str
    email: str
    name: str


class KycDecided(ApiModel):
    session_id: str
    contractor_id: str
    user_id: str
    provider: str
    reason: str | None = None
    verified_legal_name: str | None = None
    """``kyc.verified`` only: the legal name the verification established (the
    provider's reading of the identity document, else the name the session was
    opened with). Contracts carry this name; ``None`` from older producers."""


class ContractParties(ApiModel):
    contract_id: str
    title: str
    client_company_id: str
    client_user_id: str
    contractor_id: str
    contractor_user_id: str


class ContractCreated(ContractParties):
    currency: str
    total_minor: int


class ContractVoided(ContractParties):
    reason: str


class SignatureRecorded(ContractParties):
    signature_id: str
    signer_user_id: str
    signer_role: Literal["client", "contractor"]
    pdf_sha256: str
    ledger_entry_id: int


class SignatureCompleted(ContractParties):
    signature_ids: list[str]
    pdf_sha256: str
    final_pdf_sha256: str
    ledger_entry_ids: list[int]


class SignatureDeclined(ContractParties):
    declined_by_user_id: str
    declined_by_role: Literal["client", "contractor"]
    reason: str


class ScheduleItem(ApiModel):
    item_id: str
    title: str
    amount_minor: int
    due_date: str


class ContractActivated(ContractParties):
    currency: str
    schedule: list[ScheduleItem]
    ledger_entry_id: int
    review_days: int = 14
    """Days the client has to answer a submission before it releases on its own."""
    notice_days: int = 0
    """Days of notice a termination gives (0: it may end the contract at once)."""


Side = Literal["client", "contractor"]


class ContractTerminationScheduled(ContractParties):
    """A party gave notice: the contract ends on ``ends_at`` (issue 15)."""

    by_user_id: str
    by_side: Side
    reason: str
    notice_days: int
    ends_at: str


class ContractTerminated(ContractParties):
    """The contract ended early (at once, or when its notice ran out)."""

    by_user_id: str
    by_side: Side
    reason: str
    notice_days: int
    ended_at: str


class SigningReminder(ContractParties):
    """Whoever must sign next is reminded (issue 16): by the schedule, or by
    the client at once (``manual``)."""

    to_side: Side
    to_user_id: str
    """The contractor's user, or the client user who sent the contract (any
    member whose role signs may sign for the company)."""
    signing_deadline: str
    reminder_no: int
    """1, 2, … per contract, scheduled and manual ones together."""
    manual: bool = False


class SigningDeadlineExtended(ContractParties):
    """The client moved the signing deadline before it passed."""

    signing_deadline: str
    previous_deadline: str
    by_user_id: str
    to_side: Side
    to_user_id: str
    """Whoever must sign next, who is told (as ``SigningReminder``'s)."""


class ContractExpired(ContractParties):
    """The signing deadline passed with signatures missing: the contract is
    ``expired`` and can no longer be signed."""

    signing_deadline: str
    expired_at: str
    waiting_for: Side
    """Whose signature was missing."""


class AmendmentProposed(ContractParties):
    """A member of the client company proposed amendment ``number`` of an
    active contract (issue 16): the client signs it first, then the
    contractor; until both have, the contract's terms stay as they are."""

    number: int
    proposed_by_user_id: str
    reason: str
    currency: str
    total_minor: int
    previous_total_minor: int


class AmendmentSignatureRecorded(SignatureRecorded):
    """The client signed amendment ``amendment``: the contractor's turn."""

    amendment: int


class AmendmentDeclined(SignatureDeclined):
    """Either party declined amendment ``amendment``: the contract's terms stay."""

    amendment: int


class AmendmentWithdrawn(ContractParties):
    """The client withdrew amendment ``number`` before both had signed it."""

    number: int
    by_user_id: str
    reason: str
    client_signed: bool
    """Whether the client had signed it (so the contractor had been asked to)."""


class ContractAmended(ContractParties):
    """Both parties signed amendment ``number``: its terms are the contract's
    from ``amended_at``. ``schedule`` is the whole schedule now; items kept
    keep their ids, ``added_item_ids`` are new, ``removed_item_ids`` are no
    longer owed (payment cancels them if unfunded; a funded one is refunded,
    never changed: ADR 0017)."""

    number: int
    terms_version: int
    """1 is the contract as first signed; each amendment in force adds one."""
    currency: str
    total_minor: int
    previous_total_minor: int
    review_days: int
    end_date: str | None = None
    schedule: list[ScheduleItem]
    added_item_ids: list[str]
    removed_item_ids: list[str]
    pdf_sha256: str
    final_pdf_sha256: str
    signature_ids: list[str]
    ledger_entry_ids: list[int]
    amended_at: str


class PaymentScheduled(ApiModel):
    contract_id: str
    item_id: str
    amount_minor: int
    currency: str
    due_date: str
    ledger_entry_id: int


class PaymentIntentCreated(ApiModel):
    contract_id: str
    item_id: str
    transaction_id: str
    payment_intent_id: str
    amount_minor: int
    currency: str


class PaymentConfirmed(ApiModel):
    contract_id: str
    item_id: str
    transaction_id: str
    escrow_id: str
    client_user_id: str
    contractor_user_id: str
    amount_minor: int
    currency: str
    client_company_id: str | None = None
    """The paying company (whose webhooks hear of it); ``None`` from older producers."""


class PaymentReleased(ApiModel):
    contract_id: str
    item_id: str
    escrow_id: str
    transfer_id: str
    client_user_id: str
    contractor_user_id: str
    contractor_id: str
    amount_minor: int
    """What moved to the contractor: the whole item, or a split's part of it."""
    currency: str
    all_released: bool
    reason: str = "approved"
    """``approved``, ``auto-release``, ``agreed`` (a split both parties agreed),
    ``dispute`` (an admin's resolution)."""
    client_company_id: str | None = None
    """The paying company (whose webhooks hear of it); ``None`` from older producers."""


class EscrowStep(ApiModel):
    """Which escrowed item a step is about, and whose it is."""

    contract_id: str
    item_id: str
    escrow_id: str
    client_company_id: str
    client_user_id: str
    contractor_id: str
    contractor_user_id: str
    amount_minor: int
    currency: str


class WorkSubmitted(EscrowStep):
    submission_no: int
    submitted_by_user_id: str
    file_count: int
    review_due_at: str
    """When the item releases on its own unless the client answers (or a dispute opens)."""


class ChangesRequested(EscrowStep):
    submission_no: int
    requested_by_user_id: str
    reason: str


class ReviewReminder(EscrowStep):
    review_due_at: str
    days_left: int


class EscrowDisputed(EscrowStep):
    opened_by_user_id: str
    opened_by_side: Side
    reason: str
    frozen_state: str
    """The state the item was frozen in (``funded``, ``submitted``, ``changes_requested``)."""


class PaymentRefunded(EscrowStep):
    refund_id: str
    refunded_minor: int
    reason: str
    """``terminated``, ``amended``, ``agreed``, ``dispute``."""


SettlementOutcome = Literal["released", "refunded", "split", "cancelled"]


class EscrowSettled(EscrowStep):
    """An item reached its final state: all its money went one way, or both."""

    outcome: SettlementOutcome
    released_minor: int
    refunded_minor: int
    reason: str
    by_user_id: str | None
    """``None`` when no one acted: an auto-release, a termination's own effect."""
    all_settled: bool
    """Every item of the contract is now in a final state."""


class InvoiceIssued(ApiModel):
    invoice_id: str
    number: str
    """Per contractor, in sequence."""
    escrow_id: str
    contract_id: str
    contractor_id: str
    contractor_user_id: str
    client_company_id: str
    client_user_id: str
    amount_minor: int
    currency: str
    pdf_sha256: str
    issued_at: str


CATALOG: tuple[Event, ...] = (
    Event("user.created", producer="auth", payload=UserCreated),
    Event("user.suspended", producer="auth", payload=UserSuspended),
    Event("user.unsuspended", producer="auth", payload=UserUnsuspended),
    Event("session.ended", producer="auth", payload=SessionEnded),
    Event("user.updated", producer="user", payload=UserUpdated),
    Event("company.registered", producer="client", payload=CompanyRegistered),
    Event("company.reviewed", producer="client", payload=CompanyReviewed),
    Event("company.claim-contested", producer="client", payload=CompanyClaimContested),
    Event("company.member-added", producer="client", payload=CompanyMemberChanged),
    Event("company.member-role-changed", producer="client", payload=CompanyMemberChanged),
    Event("company.member-removed", producer="client", payload=CompanyMemberChanged),
    Event("invitation.created", producer="client", payload=InvitationCreated),
    Event("invitation.accepted", producer="contractor", payload=InvitationAccepted),
    Event("contractor.created", producer="contractor", payload=ContractorCreated),
    Event("kyc.verified", producer="kyc", payload=KycDecided),
    Event("kyc.rejected", producer="kyc", payload=KycDecided),
    Event("contract.created", producer="contract", payload=ContractCreated),
    Event("contract.sent-for-signature", producer="contract", payload=ContractParties),
    Event("contract.voided", producer="contract", payload=ContractVoided),
    Event("signature.client-signed", producer="signature", payload=SignatureRecorded),
    Event("signature.completed", producer="signature", payload=SignatureCompleted),
    Event("signature.declined", producer="signature", payload=SignatureDeclined),
    Event("ledger.contract-activated", producer="ledger", payload=ContractActivated),
    Event("ledger.payment-scheduled", producer="ledger", payload=PaymentScheduled),
    Event("payment.intent-created", producer="payment", payload=PaymentIntentCreated),
    Event("payment.confirmed", producer="payment", payload=PaymentConfirmed),
    Event("payment.released", producer="payment", payload=PaymentReleased),
    Event("payment.work-submitted", producer="payment", payload=WorkSubmitted),
    Event("payment.changes-requested", producer="payment", payload=ChangesRequested),
    Event("payment.review-reminder", producer="payment", payload=ReviewReminder),
    Event("payment.disputed", producer="payment", payload=EscrowDisputed),
    Event("payment.refunded", producer="payment", payload=PaymentRefunded),
    Event("payment.item-settled", producer="payment", payload=EscrowSettled),
    Event("payment.invoice-issued", producer="payment", payload=InvoiceIssued),
    Event(
        "contract.termination-scheduled", producer="contract", payload=ContractTerminationScheduled
    ),
    Event("contract.terminated", producer="contract", payload=ContractTerminated),
    Event("contract.signing-reminder", producer="contract", payload=SigningReminder),
    Event(
        "contract.signing-deadline-extended", producer="contract", payload=SigningDeadlineExtended
    ),
    Event("contract.expired", producer="contract", payload=ContractExpired),
    Event("contract.amendment-proposed", producer="contract", payload=AmendmentProposed),
    Event(
        "signature.amendment-client-signed",
        producer="signature",
        payload=AmendmentSignatureRecorded,
    ),
    Event("signature.amendment-declined", producer="signature", payload=AmendmentDeclined),
    Event("contract.amendment-withdrawn", producer="contract", payload=AmendmentWithdrawn),
    Event("contract.amended", producer="contract", payload=ContractAmended),
)
