"""The signature rules: who signs a contract (its two parties, client first),
when it can be signed or declined, and what a signature records.

No FastAPI here; routes commit the unit of work, never this.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from mindlinks_fleet.internal.signature import State
from mindlinks_fleet.step_up import (
    AMENDMENT_SIGN,
    CONTRACT_SIGN,
    STEP_UP_TYPE,
    Method,
    amendment_subject,
    purpose,
)
from mindlinks_kit.clock import iso
from mindlinks_kit.errors import Conflict, Forbidden, NotFound


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


class SigningStepUpRequired(Forbidden):
    """403, not RFC 9470's 401: the access token is good (a 401 sends
    clients to refresh or sign in again, losing the signer's place); what is
    missing is a second proof for this one action. The challenge header is
    RFC 9470's, for clients that speak it; the body says what to do."""

    code = "step-up-required"
    title = "Confirm a one-time code before signing"

    def __init__(self, wanted: str, reason: str) -> None:
        """``wanted``: the purpose a token must name (``signing_purpose``)."""
        super().__init__(
            f"Signing needs a fresh one-time code ({reason}): ask for one with "
            f'POST /v1/auth/step-up/challenges {{"method": "email" or "totp", '
            f'"purpose": "{wanted}"}}, confirm it with POST /v1/auth/step-up, and '
            "send the stepUpToken it returns with the signature.",
            reason=reason,
            stepUp={
                "purpose": wanted,
                "methods": ["email", "totp"],
                "challenge": "/v1/auth/step-up/challenges",
                "confirm": "/v1/auth/step-up",
            },
        )
        self.headers["WWW-Authenticate"] = (
            'Bearer error="insufficient_user_authentication", '
            'error_description="A one-time code confirmed for this signature is required"'
        )


Role = Literal["client", "contractor"]
NOT_SIGNABLE = frozenset({"draft", "voided", "declined", "withdrawn", "active", "completed"})
"""Statuses nothing is signed in (``withdrawn``: an amendment's)."""
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
    amendment: int | None = None
    """Set when what is signed is this amendment of the contract (``status``,
    ``version`` and the documents are then the amendment's)."""

    @property
    def title_signed(self) -> str:
        """The title the certificate of completion gives the document."""
        return self.title if self.amendment is None else f"{self.title}, amendment {self.amendment}"

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
class StepUp:
    """How and when the signer confirmed a one-time code for this signature."""

    method: Method
    verified_at: str


def signing_purpose(contract_id: str, amendment: int | None = None) -> str:
    """What a step-up token names to sign a contract, or one of its amendments."""
    if amendment is None:
        return purpose(CONTRACT_SIGN, contract_id)
    return purpose(AMENDMENT_SIGN, amendment_subject(contract_id, amendment))


def step_up_of(claims: dict[str, Any], user_id: str, wanted: str) -> StepUp:
    """The evidence of a verified step-up token (signature, issuer, audience
    and expiry already checked), if it is the caller's, for ``wanted`` (this
    contract's or amendment's signing); ``SigningStepUpRequired`` otherwise."""
    if claims.get("typ") != STEP_UP_TYPE:
        raise SigningStepUpRequired(wanted, "not a step-up token")
    if claims.get("sub") != user_id:
        raise SigningStepUpRequired(wanted, "the token is another user's")
    if claims.get("purpose") != wanted:
        raise SigningStepUpRequired(wanted, "the token is for another action")
    method, verified_at = claims.get("method"), claims.get("auth_time")
    if method not in ("email", "totp") or not isinstance(verified_at, int):
        raise SigningStepUpRequired(wanted, "not a step-up token")
    return StepUp(method=method, verified_at=iso(datetime.fromtimestamp(verified_at, UTC)))


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
    step_up: StepUp | None = None
    """The one-time code confirmed before signing (``None``: claimed before step-up)."""
    amendment: int | None = None
    """The amendment of the contract signed (``None``: the contract itself)."""

    def ledger_data(self) -> dict[str, Any]:
        """What the ledger entry records: everything that makes this signature
        verifiable later (the exact document signed, who — by account, by the
        legal name the contract gives the party and by the typed name —, when,
        from where)."""
        data: dict[str, Any] = {
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
        if self.amendment is not None:
            data["amendment"] = self.amendment
        if self.step_up is not None:
            # Likewise absent on a claim from before step-up.
            data["stepUp"] = {
                "method": self.step_up.method,
                "verifiedAt": self.step_up.verified_at,
            }
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
    amendment: int | None = None


def _signed(contract_id: str, amendment: int | None) -> str:
    return contract_id if amendment is None else amendment_subject(contract_id, amendment)


def signature_id(contract_id: str, role: Role, amendment: int | None = None) -> str:
    """One signature per party per contract (and per amendment), so its id is
    known in advance: a retry after a crash finds (and finishes) the first attempt."""
    return f"{_signed(contract_id, amendment)}-{role}"


def decline_id(contract_id: str, role: Role, amendment: int | None = None) -> str:
    return f"{_signed(contract_id, amendment)}-decline-{role}"


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
