"""The signature service's internal API: a contract's signatures for the operator."""

from __future__ import annotations

from typing import Literal

from mindlinks_kit.declaration import Call
from mindlinks_kit.schemas import ApiModel, Page

State = Literal["pending", "recorded"]


class LedgerReceipt(ApiModel):
    seq: int
    entry_hash: str
    recorded_at: str


class StepUpEvidence(ApiModel):
    """How the signer confirmed who they are right before signing (issue 16)."""

    method: Literal["email", "totp"]
    verified_at: str


class SignatureOut(ApiModel):
    id: str
    contract_id: str
    signer_role: Literal["client", "contractor"]
    signer_user_id: str
    signature_name: str
    signed_at: str
    ip_address: str | None
    user_agent: str | None
    pdf_sha256: str
    ledger_receipt: LedgerReceipt | None
    final_pdf_sha256: str | None = None
    signer_company_id: str | None = None
    """The client's signature: the company signed for (``None`` for the
    contractor's, and for client signatures from before company roles)."""
    signer_company_role: str | None = None
    """The signer's role in that company when they signed (owner or admin)."""
    step_up: StepUpEvidence | None = None
    """The one-time code the signer confirmed (``None``: signed before step-up)."""
    amendment: int | None = None
    """The amendment of the contract signed (``None``: the contract itself)."""


class SignatureRecord(SignatureOut):
    """A signature as operators see it: with its state (``pending``: a signing
    that stopped midway and has not been finished yet)."""

    state: State


SIGNATURES = Call(
    "signature",
    "GET",
    "/internal/signatures",
    Page[SignatureRecord],
    callers=("admin",),
    summary="A contract's signatures in signing order, with their state.",
)

ROUTES = (SIGNATURES,)
