"""The signature rules: who signs a contract (its two parties, client first),
when it can be signed or declined, and what a signature records.

No FastAPI here; routes commit the unit of work, never this.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from mindlinks_fleet.internal.signature import State
from mindlinks_kit.errors import Conflict, NotFound


class ContractNotFound(NotFound):
    """Unknown contracts and contracts the caller is no party to answer alike."""

    code = "contract-not-found"
    title = "Contract not found"


class ContractNotSignable(Conflict):
    code = "contract-not-signable"
    title = "This contract cannot be signed or declined in its current status"


class ContractExpired(Conflict):
    """Issue 16: the contract's signing deadline passed unsigned. Said apart
    from ``contract-not-signable`` so a signer learns why, not just that."""

    code = "contract-expired"
    title = "The signing deadline has passed: the contract can no longer be signed or declined"


class ClientMustSignFirst(Conflict):
    code = "client-must-sign-first"
    title = "The client signs first; the contractor signs after"


class AlreadySigned(Conflict):
    code = "already-signed"
    title = "You have already signed this contract"


class DocumentChanged(Conflict):
    code = "document-changed"
    title = "The document no longer matches the one recorded for this contract"


Role = Literal["client", "contractor"]
NOT_SIGNABLE = frozenset({"draft", "voided", "declined", "active", "completed"})
DECLINABLE = frozenset({"sent_for_signature", "client_signed"})
AWAITING: dict[Role, str] = {"client": "sent_for_signature", "contractor": "client_signed"}
"""The status in which each party signs."""
SIGNED: dict[Role, str] = {"client": "client_signed", "contractor": "fully_signed"}
"""The status each party's signature moves the contract to."""


@dataclass(frozen=True)
class ContractView:
    """The part of the contract service's contract this service reads."""

    id: str
    status: str
    version: int
    title: str
    client_company_id: str
    client_user_id: str
    client_name: str
    contractor_id: str
    contractor_user_id: str
    contractor_name: str
    pdf_sha256: str
    final_pdf_sha256: str | None

    def party_name(self, role: Role) -> str:
        """The signing party's legal name as the contract names it (for a
        contractor, the name KYC verified; for a client, the company's)."""
        return self.client_name if role == "client" else self.contractor_name

    def parties(self) -> dict[str, str]:
        return {
            "contract_id": self.id,
            "title": self.title,
            "client_company_id": self.client_company_id,
            "client_user_id": self.client_user_id,
            "contractor_id": self.contractor_id,
            "contractor_user_id": self.contractor_user_id,
        }


@dataclass(frozen=True)
class Receipt:
    """The ledger's answer to an append: where the entry sits in the journal."""

    seq: int
    entry_hash: str
    recorded_at: str


@dataclass(frozen=True)
class Signature:
    id: str
    contract_id: str
    role: Role
    signer_user_id: str
    signature_name: str
    signed_at: str
    ip_address: str | None
    user_agent: str | None
    pdf_sha256: str
    state: State = "pending"
    receipt: Receipt | None = None
    final_pdf_sha256: str | None = None
    party_name: str = ""
    """The party's legal name on the contract when signed (``""``: claimed
    before names were recorded)."""
    company_id: str | None = None
    """The client's signature: the company its signer signed for, and their
    role there (``None``: the contractor's, or claimed before company roles)."""
    company_role: str | None = None

    def ledger_data(self) -> dict[str, Any]:
        """What the ledger entry records: everything that makes this signature
        verifiable later (the exact document signed, who — by account, by the
        legal name the contract gives the party and by the typed name —, when,
        from where)."""
        data = {
            "signatureId": self.id,
            "contractId": self.contract_id,
            "signerUserId": self.signer_user_id,
            "signerRole": self.role,
            "signatureName": self.signature_name,
            "signedAt": self.signed_at,
            "ipAddress": self.ip_address,
            "userAgent": self.user_agent,
            "pdfSha256": self.pdf_sha256,
        }
        if self.party_name:
            # Absent on a claim from before: a retry must append the same data.
            data["partyName"] = self.party_name
        if self.company_id is not None:
            # Likewise absent on a claim from before company roles.
            data["companyId"] = self.company_id
            data["companyRole"] = self.company_role
        return data

    def recorded(self, receipt: Receipt, final_pdf_sha256: str | None = None) -> Signature:
        return replace(self, state="recorded", receipt=receipt, final_pdf_sha256=final_pdf_sha256)


@dataclass(frozen=True)
class Decline:
    id: str
    contract_id: str
    role: Role
    user_id: str
    reason: str
    declined_at: str
    state: State = "pending"


def signature_id(contract_id: str, role: Role) -> str:
    """One signature per party per contract, so its id is known in advance:
    a retry after a crash finds (and finishes) the first attempt."""
    return f"{contract_id}-{role}"


def decline_id(contract_id: str, role: Role) -> str:
    return f"{contract_id}-decline-{role}"


def party_role(contract: ContractView, caller: Caller) -> Role:
    """The caller's side of the contract: a member of its client company
    (whoever drafted it) or its contractor; anyone else gets 404."""
    if caller.company_id is not None and caller.company_id == contract.client_company_id:
        return "client"
    if caller.role == "contractor" and caller.user_id == contract.contractor_user_id:
        return "contractor"
    raise ContractNotFound()


def check_signable(status: str, role: Role, mine: Signature | None) -> None:
    """Whether ``role`` may sign a contract in ``status``, given its own
    signature record so far (``pending``: an attempt that stopped midway)."""
    if status == "expired":
        raise ContractExpired()
    if status in NOT_SIGNABLE:
        raise ContractNotSignable(f"The contract is {status.replace('_', ' ')}")
    if mine is not None and mine.state == "recorded":
        raise AlreadySigned()
    if mine is not None and status == SIGNED[role]:
        return  # the earlier attempt moved the contract, then stopped: finish it
    if role == "contractor" and status == "sent_for_signature":
        raise ClientMustSignFirst()
    if status != AWAITING[role]:
        raise AlreadySigned()


def check_declinable(status: str, mine: Decline | None) -> None:
    if status == "expired":
        raise ContractExpired()
    if mine is not None and mine.state == "recorded":
        raise ContractNotSignable("You have already declined this contract")
    if mine is not None and status == "declined":
        return  # the earlier attempt declined it, then stopped: finish it
    if status not in DECLINABLE:
        raise ContractNotSignable(f"The contract is {status.replace('_', ' ')}")


@dataclass(frozen=True)
class Caller:
    user_id: str
    role: str
    ip_address: str | None = None
    user_agent: str | None = None
    company_id: str | None = None
    """The company a member acts for, and their role there (``None``: not a member)."""
    company_role: str | None = None


@dataclass(frozen=True)
class Signed:
    signature: Signature
    contract_status: str
