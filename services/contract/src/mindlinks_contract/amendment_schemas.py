"""The amendment routes' bodies (camelCase on the wire)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, Strict, model_validator

from mindlinks_contract.amendments import Amendment, Proposal, Version
from mindlinks_contract.domain import Contract
from mindlinks_contract.schemas import MAX_AMOUNT_MINOR, Day, FixedTerms, Terms, Text
from mindlinks_fleet.internal.contract import AmendmentForSigning, AmendmentStatus, Reason
from mindlinks_kit.schemas import ApiModel


class AmendmentIn(ApiModel):
    """What changes; what is left out stays as it is."""

    reason: Reason
    """Why: the first thing both parties read on the amendment's PDF."""
    description: Text | None = None
    """The new scope, replacing the description in force."""
    end_date: Day | None = None
    remove_end_date: Annotated[bool, Strict()] = False
    """The contract has no end date any more."""
    terms: Terms | None = None
    """The whole new payment schedule. A line identical to one in force keeps
    that payment; funded or settled payments must be kept as they are."""

    @model_validator(mode="after")
    def _something(self) -> AmendmentIn:
        if self.remove_end_date and self.end_date is not None:
            raise ValueError("give endDate or removeEndDate, not both")
        given = (self.description, self.end_date, self.terms)
        if all(value is None for value in given) and not self.remove_end_date:
            raise ValueError("give one or more of description, endDate, removeEndDate, terms")
        if self.terms is not None:
            amounts = (
                [self.terms.amount_minor]
                if isinstance(self.terms, FixedTerms)
                else [m.amount_minor for m in self.terms.milestones]
            )
            if sum(amounts) > MAX_AMOUNT_MINOR:
                raise ValueError("the total is too large")
        return self

    def proposal(self) -> Proposal:
        wire = self.model_dump(mode="json", by_alias=True)
        return Proposal(
            reason=self.reason,
            description=self.description,
            end_date=wire.get("endDate"),
            clear_end_date=self.remove_end_date,
            terms=wire.get("terms"),
        )

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class WithdrawIn(ApiModel):
    reason: Reason


class VersionOut(ApiModel):
    """One version of the terms."""

    description: str
    end_date: str | None
    terms: dict[str, Any]
    total_minor: int
    item_ids: list[str]
    """The payment item of each line of ``terms``, in order."""

    @classmethod
    def of(cls, version: Version) -> VersionOut:
        return cls(
            description=version.description,
            end_date=version.end_date,
            terms=version.terms,
            total_minor=version.total_minor,
            item_ids=list(version.item_ids),
        )


class AmendmentStepOut(ApiModel):
    to: AmendmentStatus
    at: str
    actor_user_id: str | None
    reason: str | None


class AmendmentOut(ApiModel):
    contract_id: str
    number: int
    terms_version: int
    """The version of the terms it makes (the contract as first signed is 1)."""
    status: AmendmentStatus
    """``fully_signed``: in force since ``inForceAt``."""
    version: int
    reason: str
    proposed_by_user_id: str
    proposed_at: str
    previous: VersionOut
    """The terms it replaces (in force when it was proposed)."""
    proposed: VersionOut
    added_item_ids: list[str]
    removed_item_ids: list[str]
    pdf_sha256: str
    final_pdf_sha256: str | None
    in_force_at: str | None
    signature_ids: list[str]
    ledger_entry_ids: list[int]
    history: list[AmendmentStepOut]

    @classmethod
    def of(cls, amendment: Amendment) -> AmendmentOut:
        return cls(
            contract_id=amendment.contract_id,
            number=amendment.number,
            terms_version=amendment.terms_version,
            status=amendment.status,
            version=amendment.version,
            reason=amendment.reason,
            proposed_by_user_id=amendment.proposed_by_user_id,
            proposed_at=amendment.proposed_at,
            previous=VersionOut.of(amendment.previous),
            proposed=VersionOut.of(amendment.proposed),
            added_item_ids=list(amendment.added_item_ids),
            removed_item_ids=list(amendment.removed_item_ids),
            pdf_sha256=amendment.pdf_sha256,
            final_pdf_sha256=amendment.final_pdf_sha256,
            in_force_at=amendment.in_force_at,
            signature_ids=list(amendment.signature_ids),
            ledger_entry_ids=list(amendment.ledger_entry_ids),
            history=[
                AmendmentStepOut(
                    to=step.to_status,
                    at=step.at,
                    actor_user_id=step.actor_user_id,
                    reason=step.reason,
                )
                for step in amendment.history
            ],
        )


def for_signing(contract: Contract, amendment: Amendment) -> AmendmentForSigning:
    return AmendmentForSigning(
        contract_id=contract.id,
        number=amendment.number,
        status=amendment.status,
        version=amendment.version,
        title=contract.title,
        client_company_id=contract.client_company_id,
        client_user_id=contract.client_user_id,
        client_name=contract.client_name,
        contractor_id=contract.contractor_id,
        contractor_user_id=contract.contractor_user_id,
        contractor_name=contract.contractor_name,
        pdf_sha256=amendment.pdf_sha256,
        final_pdf_sha256=amendment.final_pdf_sha256,
    )


AmendmentNumber = Annotated[int, Field(ge=1, le=10_000)]
