"""Every table's attribute names, pinned.

The stores write a dataclass's fields under their camelCase names
(``mindlinks_kit.records``), so renaming a field in Python would silently
rename the stored attribute: items already written would stop reading, and
the indexes, conditions and update expressions that name the old attribute
would miss. A failure here means a field was renamed or added: keep a renamed
field's stored name with the record's ``names=``; add a new attribute here on
purpose. Each record is checked with every field set (``populated``), so
optional attributes are pinned too; a map's keys are pinned as
``map.key`` (for a list of maps, its entries' keys).
"""

from __future__ import annotations

import dataclasses
import enum
import types
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import pytest

from mindlinks_auth import store as auth
from mindlinks_client.store import companies, invitations, member_invitations, members
from mindlinks_contract import store as contract
from mindlinks_contractor import store as contractor
from mindlinks_kit.records import Record
from mindlinks_kyc import store as kyc
from mindlinks_ledger import store as ledger
from mindlinks_notification import store as notification
from mindlinks_payment import invoice_store as invoices
from mindlinks_payment import store as payment
from mindlinks_signature import store as signature
from mindlinks_user import store as user

PARTIES = "contractId contractTitle clientCompanyId clientUserId contractorId contractorUserId"
LAYOUTS: dict[str, tuple[Record[Any], str]] = {
    "auth users": (
        auth.USERS,
        "id email name role passwordHash createdAt status emailVerified mfaEnabled mfaSecret"
        " mfaPending tokenEpoch suspendedReason version",
    ),
    "auth sessions": (
        auth.SESSIONS,
        "id userId createdAt expiresAt ip userAgent tokenEpoch status amr",
    ),
    "user profiles": (
        user.PROFILES,
        "userId email name role displayName phone timezone locale createdAt updatedAt version",
    ),
    "user preferences": (
        user.PREFERENCES,
        "userId locale timezone notifications updatedAt version",
    ),
    "client companies": (
        companies.COMPANIES,
        "id ownerUserId legalName jurisdictionCode companyNumber status nameMismatch createdAt"
        " updatedAt tradingName holds conflictsWith version address address.line1 address.line2"
        " address.city address.postalCode address.country address.region registry"
        " registry.checkedAt registry.reachable registry.name registry.status"
        " registry.registeredAddress review review.decision review.decidedBy review.decidedAt"
        " review.reason authority authority.check authority.officer authority.position",
    ),
    "client company reviews (set by a decision)": (
        companies.REVIEWS,
        "decision decidedBy decidedAt reason",
    ),
    "client invitations (accept and revoke update the last five)": (
        invitations.INVITATIONS,
        "id companyId companyName email name tokenHash status invitedByUserId createdAt"
        " expiresAt version acceptedAt revokedAt contractorId contractorUserId contractorName",
    ),
    "client email guards": (invitations.GUARDS, "invitationId state expiresEpoch"),
    "client members (both sides of the adjacency list)": (
        members.MEMBERS,
        "companyId userId role addedAt addedByUserId updatedAt version",
    ),
    "client member invitations (accept and revoke update the last three)": (
        member_invitations.MEMBER_INVITATIONS,
        "id companyId companyName email role tokenHash status invitedByUserId createdAt"
        " expiresAt version acceptedAt acceptedByUserId revokedAt",
    ),
    "client member changes (append-only)": (
        members.CHANGES,
        "companyId changeId change userId role previousRole actorUserId at",
    ),
    "contractor profiles": (
        contractor.PROFILES,
        "id userId name email createdAt updatedAt kycStatus phone country taxId kycDecidedAt"
        " kycReason kycSessionId displayName verifiedLegalName version address address.line1"
        " address.line2 address.city address.region address.postalCode address.country",
    ),
    "contractor engagements": (
        contractor.ENGAGEMENTS,
        "contractorId companyId companyName invitationId since",
    ),
    "contractor bank details": (
        contractor.BANK_DETAILS,
        "contractorId accountHolder country currency bankName scheme masked keyId"
        " encryptedDataKey sealed updatedAt version",
    ),
    "kyc sessions": (
        kyc.SESSIONS,
        "id contractorId userId provider providerSessionId verificationUrl status createdAt"
        " updatedAt expiresAt reason decidedAt decidedBy decisionCode applicantName"
        " verifiedLegalName version",
    ),
    "kyc documents": (
        kyc.DOCUMENTS,
        "id sessionId kind contentType size key createdAt uploadExpiresAt",
    ),
    "contract contracts": (
        contract.CONTRACTS,
        "id status title description currency startDate terms totalMinor templateId"
        " clientCompanyId clientUserId clientName contractorId contractorUserId contractorName"
        " pdfKey pdfSha256 createdAt updatedAt finalPdfKey finalPdfSha256 activatedAt"
        " ledgerEntryId completedAt version history history.from history.to history.at"
        " history.actorUserId history.reason history.actorService reviewDays noticeDays"
        " termination termination.reason termination.byUserId termination.bySide"
        " termination.requestedAt terminationEndsAt terminatedAt"
        # Issue 16: the signing deadline and its reminders.
        " signingDays reminderAfterDays reminderEveryDays sentAt sentByUserId"
        " signingDeadline nextReminderAt remindersSent lastReminderAt expiredAt"
        # Issue 16: amendments (ADR 0017).
        " endDate termsVersion itemIds openAmendment amendmentsProposed",
    ),
    "contract amendments": (
        contract.AMENDMENTS,
        "contractId number status reason proposedByUserId proposedAt previous"
        " previous.description previous.endDate previous.terms previous.totalMinor"
        " previous.itemIds proposed proposed.description proposed.endDate proposed.terms"
        " proposed.totalMinor proposed.itemIds addedItemIds removedItemIds pdfKey pdfSha256"
        " finalPdfKey finalPdfSha256 inForceAt signatureIds ledgerEntryIds history history.to"
        " history.at history.actorUserId history.reason version",
    ),
    "contract templates": (
        contract.TEMPLATES,
        "id companyId name body createdByUserId createdAt",
    ),
    "signature signatures": (
        signature.SIGNATURES,
        "id contractId role signerUserId signatureName signedAt ipAddress userAgent pdfSha256"
        " state ledgerSeq ledgerEntryHash ledgerRecordedAt finalPdfSha256 partyName"
        " companyId companyRole stepUp stepUp.method stepUp.verifiedAt amendment",
    ),
    "signature declines": (
        signature.DECLINES,
        "id contractId role userId reason declinedAt state amendment",
    ),
    "ledger tip": (ledger.TIPS, "tipSeq tipHash tipRecordedAt"),
    "ledger idempotency keys": (ledger.KEYS, "seq fingerprint"),
    "payment escrow": (
        payment.ESCROWS,
        f"{PARTIES} id itemId position title amountMinor currency dueDate state transactionId"
        " paymentIntentId createdAt updatedAt version chargeId transferId fundedAt releasedAt"
        " reviewDays reviewDueAt refundId settledAt submissions submissions.no submissions.note"
        " submissions.submittedByUserId submissions.submittedAt submissions.answer"
        " submissions.files submissions.files.id submissions.files.name"
        " submissions.files.contentType submissions.files.size submissions.files.key dispute"
        " dispute.openedByUserId dispute.openedBySide dispute.reason dispute.openedAt"
        " dispute.frozenState proposal proposal.refundMinor proposal.proposedByUserId"
        " proposal.proposedBySide proposal.proposedAt settlement settlement.releasedMinor"
        " settlement.refundedMinor settlement.reason settlement.claim settlement.claimedAt"
        " settlement.byUserId settlement.bySide settlement.note",
    ),
    "payment escrow history": (
        payment.HISTORY,
        "escrowId stepId at action toState fromState byUserId bySide reason releasedMinor"
        " refundedMinor submissionNo",
    ),
    "payment transactions": (
        payment.TRANSACTIONS,
        f"{PARTIES} id kind itemId escrowId amountMinor currency status createdAt updatedAt"
        " version paymentIntentId clientSecret chargeId transferId refundId destination failureCode"
        " failureMessage flag flag.reason flag.flaggedBy flag.flaggedAt",
    ),
    "payment flags (set by flagging)": (payment.FLAGS, "reason flaggedBy flaggedAt"),
    "payment accounts": (
        payment.ACCOUNTS,
        "contractorId userId accountId email createdAt updatedAt chargesEnabled payoutsEnabled"
        " detailsSubmitted transfersActive version",
    ),
    "payment invoices": (
        invoices.INVOICES,
        f"{PARTIES} id number sequence escrowId itemId itemTitle transferId reason amountMinor"
        " itemAmountMinor currency issuedAt pdfKey pdfSha256 pdfSize version issuer"
        " issuer.contractorId issuer.legalName issuer.email issuer.address issuer.country"
        " issuer.taxId recipient recipient.companyId recipient.legalName"
        " recipient.jurisdictionCode recipient.companyNumber recipient.address "
        + " ".join(
            f"{party}.address.{part}"
            for party in ("issuer", "recipient")
            for part in ("line1", "line2", "city", "postalCode", "country", "region")
        ),
    ),
    "notification in-app": (
        notification.IN_APP,
        "id userId createdAt template title body data readAt",
    ),
    "notification templates": (
        notification.TEMPLATES,
        "name subject text html channels variables description revision",
    ),
}


def populated(kind: Any, name: str = "value") -> Any:
    """A value of type ``kind`` with everything set: every field of a
    dataclass, the value of an optional, one member of a tuple or list.
    Free-form dicts stay empty (their keys are data, not attribute names)."""
    origin, args = get_origin(kind), get_args(kind)
    if dataclasses.is_dataclass(kind):
        hints = get_type_hints(kind)
        fields = dataclasses.fields(kind)
        return kind(**{f.name: populated(hints[f.name], f.name) for f in fields})
    if origin is Literal:
        return args[0]
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return next(iter(kind))
    if origin in (Union, types.UnionType):
        return populated(next(a for a in args if a is not type(None)), name)
    if origin in (tuple, list):
        return origin([populated(args[0], name)])
    if kind is bool:
        return True
    if kind is int:
        return 1
    if kind is str or kind is Any:
        return name
    assert origin is not None, f"no sample for {kind}"
    return {}  # a dict or Mapping


def paths(item: dict[str, Any], prefix: str = "") -> set[str]:
    found = set()
    for key, value in item.items():
        found.add(prefix + key)
        for inner in value if isinstance(value, list | tuple) else [value]:
            if isinstance(inner, dict):
                found |= paths(inner, f"{prefix}{key}.")
    return found


@pytest.mark.parametrize("table", LAYOUTS)
def test_a_record_with_every_field_set_stores_exactly_these_attributes(table: str) -> None:
    record, expected = LAYOUTS[table]
    value = populated(record.cls)
    item = record.item(value)
    assert paths(item) == set(expected.split())
    assert record.read(item) == value
