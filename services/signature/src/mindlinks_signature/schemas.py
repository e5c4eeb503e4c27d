"""The signature service's request and response bodies (camelCase on the wire)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, StringConstraints

from mindlinks_fleet.internal.ledger import InclusionProofOut
from mindlinks_fleet.internal.signature import (
    LedgerReceipt,
    SignatureOut,
    SignatureRecord,
    StepUpEvidence,
)
from mindlinks_kit.schemas import MULTI_LINE, ONE_LINE, ApiModel
from mindlinks_signature.domain import Decline, Signature
from mindlinks_signature.verification import Verdict

SignatureName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE
]


def _literally_true(value: Any) -> Any:
    if value is not True:
        raise ValueError("consent must be literally true")
    return value


Consent = Annotated[Literal[True], BeforeValidator(_literally_true)]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), MULTI_LINE
]


StepUpToken = Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class SignIn(ApiModel):
    consent: Consent
    """The signer agrees to sign electronically; must be literally ``true``."""
    signature_name: SignatureName
    step_up_token: StepUpToken | None = None
    """From ``POST /v1/auth/step-up`` for ``contract-sign:<contractId>``: required
    (without it, ``403 step-up-required`` says how to get one); optional in
    the schema only so that its absence gets that guidance, not a 422."""

    def wire(self) -> dict[str, Any]:
        """What an ``Idempotency-Key`` binds: the signature, not the step-up
        token (a retry after the token expired carries a new one)."""
        return self.model_dump(mode="json", by_alias=True, exclude={"step_up_token"})


class DeclineIn(ApiModel):
    reason: Reason


def signature_out(signature: Signature) -> SignatureOut:
    receipt = signature.receipt
    return SignatureOut(
        id=signature.id,
        contract_id=signature.contract_id,
        signer_role=signature.role,
        signer_user_id=signature.signer_user_id,
        signature_name=signature.signature_name,
        signed_at=signature.signed_at,
        ip_address=signature.ip_address,
        user_agent=signature.user_agent,
        pdf_sha256=signature.pdf_sha256,
        ledger_receipt=LedgerReceipt.model_validate(receipt, from_attributes=True)
        if receipt
        else None,
        final_pdf_sha256=signature.final_pdf_sha256,
        signer_company_id=signature.company_id,
        signer_company_role=signature.company_role,
        step_up=StepUpEvidence.model_validate(signature.step_up, from_attributes=True)
        if signature.step_up
        else None,
        amendment=signature.amendment,
    )


def signature_record(signature: Signature) -> SignatureRecord:
    return SignatureRecord(**signature_out(signature).model_dump(), state=signature.state)


class SignedOut(SignatureOut):
    contract_status: str


class DeclineOut(ApiModel):
    contract_id: str
    status: Literal["declined"] = "declined"
    declined_by_role: Literal["client", "contractor"]
    declined_by_user_id: str
    reason: str
    declined_at: str

    @classmethod
    def of(cls, decline: Decline) -> DeclineOut:
        return cls(
            contract_id=decline.contract_id,
            declined_by_role=decline.role,
            declined_by_user_id=decline.user_id,
            reason=decline.reason,
            declined_at=decline.declined_at,
        )


class TimestampOut(ApiModel):
    valid: bool
    """Intact, cryptographically valid, and from a trusted time-stamp authority."""
    time: str | None
    authority: str | None


class SealOut(ApiModel):
    """pyhanko's validation of the seal (the PDF's ``MindLinksSeal`` signature)."""

    intact: bool
    valid: bool
    trusted: bool
    covers_whole_file: bool
    sealed_by: str | None
    timestamp: TimestampOut | None


class VerifiedSignatureOut(ApiModel):
    """A signature as the certificate page prints it, with its ledger proof."""

    role: Literal["client", "contractor"]
    signature_name: str
    party_name: str | None
    company_role: str | None
    signed_at: str
    ledger_seq: int
    ledger_entry_hash: str
    inclusion_proof: InclusionProofOut | None
    """RFC 6962: leaf = SHA-256(0x00 ‖ entryHash); ``null`` if the journal cannot answer now."""


class VerifyOut(ApiModel):
    ours: bool
    """The exact bytes of a final document we sealed and stored."""
    intact: bool
    """``ours``, and the seal and its time-stamp check out."""
    sha256: str
    """Of the upload."""
    contract_id: str | None = None
    amendment: int | None = None
    """Set when the document is that amendment of the contract, signed."""
    seal: SealOut | None = None
    signatures: list[VerifiedSignatureOut] = []

    @classmethod
    def of(cls, verdict: Verdict) -> VerifyOut:
        if not verdict.ours:
            return cls(ours=False, intact=False, sha256=verdict.sha256)
        seal = verdict.seal
        return cls(
            ours=True,
            intact=verdict.intact,
            sha256=verdict.sha256,
            contract_id=verdict.contract_id,
            amendment=verdict.amendment,
            seal=None
            if seal is None or not seal.present
            else SealOut(
                intact=seal.intact,
                valid=seal.valid,
                trusted=seal.trusted,
                covers_whole_file=seal.covers_whole_file,
                sealed_by=seal.sealed_by,
                timestamp=None
                if seal.timestamp is None
                else TimestampOut(
                    valid=seal.timestamp.valid,
                    time=seal.timestamp.time,
                    authority=seal.timestamp.authority,
                ),
            ),
            signatures=[
                VerifiedSignatureOut(
                    role=s.signature.role,
                    signature_name=s.signature.signature_name,
                    party_name=s.signature.party_name or None,
                    company_role=s.signature.company_role,
                    signed_at=s.signature.signed_at,
                    ledger_seq=s.signature.receipt.seq,
                    ledger_entry_hash=s.signature.receipt.entry_hash,
                    inclusion_proof=s.proof,
                )
                for s in verdict.signers
                if s.signature.receipt is not None
            ],
        )
