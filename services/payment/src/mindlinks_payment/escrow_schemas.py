"""Request and response bodies of the escrow steps (camelCase on the wire)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from mindlinks_fleet.internal.payment import (
    EscrowHistoryStep,
    OperatorEscrowDetail,
    PartiesOut,
)
from mindlinks_kit.schemas import MULTI_LINE, ApiModel, Id, one_line_without
from mindlinks_payment.domain import Escrow, HistoryStep
from mindlinks_payment.service.escrow import EscrowView, Upload

MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_FILES = 10
FileType = Literal["application/pdf", "image/png", "image/jpeg", "application/zip", "text/plain"]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), MULTI_LINE
]
FileName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    # One pattern, so the schema says which characters a name may not hold.
    one_line_without(r'/\\"<>|:*?', 'the characters / \\ " < > | : * ?'),
]


class UploadRequest(ApiModel):
    content_type: FileType
    size: Annotated[int, Field(ge=1, le=MAX_FILE_BYTES)]
    """Bytes; the upload must be exactly this size."""


class PresignedPost(ApiModel):
    url: str
    fields: dict[str, str]
    """Form fields to POST before the ``file`` field (multipart/form-data)."""


class UploadOut(ApiModel):
    file_id: str
    upload: PresignedPost
    expires_at: str

    @classmethod
    def of(cls, upload: Upload) -> UploadOut:
        return cls(
            file_id=upload.file_id,
            upload=PresignedPost(url=upload.url, fields=upload.fields),
            expires_at=upload.expires_at,
        )


class SubmittedFile(ApiModel):
    file_id: Id
    name: FileName


class SubmitRequest(ApiModel):
    note: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000), MULTI_LINE
    ]
    files: Annotated[list[SubmittedFile], Field(max_length=MAX_FILES)] = []


class ReasonRequest(ApiModel):
    reason: Reason


class RefundAmount(ApiModel):
    refund_minor: Annotated[int, Field(ge=1)]
    """Back to the client, in minor units; the rest of the item goes to the contractor."""


class FileOut(ApiModel):
    id: str
    name: str
    content_type: str
    size: int
    download_url: str | None = None


class SubmissionOut(ApiModel):
    no: int
    note: str
    submitted_by_user_id: str
    submitted_at: str
    answer: str | None
    """The client's reason for asking for changes to it."""
    files: list[FileOut]


class DisputeOut(ApiModel):
    opened_by_user_id: str
    opened_by_side: str
    reason: str
    opened_at: str
    frozen_state: str


class ProposalOut(ApiModel):
    refund_minor: int
    proposed_by_user_id: str
    proposed_by_side: str
    proposed_at: str


class SettlementOut(ApiModel):
    outcome: str
    released_minor: int
    refunded_minor: int
    reason: str
    by_user_id: str | None
    by_side: str
    claimed_at: str


class EscrowDetailOut(ApiModel):
    """One item as its parties see it: its state, its work and its history."""

    id: str
    contract_id: str
    item_id: str
    title: str
    amount_minor: int
    currency: str
    state: str
    review_days: int
    review_due_at: str | None
    funded_at: str | None
    released_at: str | None
    settled_at: str | None
    transfer_id: str | None
    refund_id: str | None
    submissions: list[SubmissionOut]
    dispute: DisputeOut | None
    proposal: ProposalOut | None
    settlement: SettlementOut | None
    history: list[EscrowHistoryStep]

    @classmethod
    def of(cls, view: EscrowView) -> EscrowDetailOut:
        e = view.escrow
        return cls(
            id=e.id,
            contract_id=e.contract_id,
            item_id=e.item_id,
            title=e.title,
            amount_minor=e.amount_minor,
            currency=e.currency,
            state=e.state,
            review_days=e.review_days,
            review_due_at=e.review_due_at,
            funded_at=e.funded_at,
            released_at=e.released_at,
            settled_at=e.settled_at,
            transfer_id=e.transfer_id,
            refund_id=e.refund_id,
            submissions=[
                SubmissionOut(
                    no=s.no,
                    note=s.note,
                    submitted_by_user_id=s.submitted_by_user_id,
                    submitted_at=s.submitted_at,
                    answer=s.answer,
                    files=[
                        FileOut(
                            id=f.id,
                            name=f.name,
                            content_type=f.content_type,
                            size=f.size,
                            download_url=view.downloads.get(f.id),
                        )
                        for f in s.files
                    ],
                )
                for s in e.submissions
            ],
            dispute=DisputeOut.model_validate(e.dispute, from_attributes=True)
            if e.dispute
            else None,
            proposal=ProposalOut.model_validate(e.proposal, from_attributes=True)
            if e.proposal
            else None,
            settlement=SettlementOut(
                outcome=e.settlement.outcome,
                released_minor=e.settlement.released_minor,
                refunded_minor=e.settlement.refunded_minor,
                reason=e.settlement.reason,
                by_user_id=e.settlement.by_user_id,
                by_side=e.settlement.by_side,
                claimed_at=e.settlement.claimed_at,
            )
            if e.settlement
            else None,
            history=[history_out(s) for s in view.history],
        )


def history_out(step: HistoryStep) -> EscrowHistoryStep:
    return EscrowHistoryStep.model_validate(step, from_attributes=True)


def operator_detail(escrow: Escrow, history: list[HistoryStep]) -> OperatorEscrowDetail:
    return OperatorEscrowDetail(
        id=escrow.id,
        contract_id=escrow.contract_id,
        item_id=escrow.item_id,
        amount_minor=escrow.amount_minor,
        currency=escrow.currency,
        state=escrow.state,
        transfer_id=escrow.transfer_id,
        funded_at=escrow.funded_at,
        released_at=escrow.released_at,
        position=escrow.position,
        title=escrow.title,
        due_date=escrow.due_date,
        transaction_id=escrow.transaction_id,
        payment_intent_id=escrow.payment_intent_id,
        charge_id=escrow.charge_id,
        parties=PartiesOut.model_validate(escrow.parties, from_attributes=True),
        created_at=escrow.created_at,
        updated_at=escrow.updated_at,
        history=[history_out(s) for s in history],
    )
