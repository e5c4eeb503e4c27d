"""The contract service's internal API: a contract for its peers, the operator's
lists and voiding, and the signature service's documents and status moves."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, Strict, StringConstraints

from mindlinks_kit.declaration import Call, Lookup
from mindlinks_kit.schemas import MULTI_LINE, ApiModel, Id, Page

Status = Literal[
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
]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), MULTI_LINE
]


class HistoryEntry(ApiModel):
    from_: Status = Field(alias="from")
    to: Status
    at: str
    actor_user_id: str | None = None
    actor_service: str | None = None
    reason: str | None = None


class TerminationOut(ApiModel):
    """Who ended (or gave notice to end) an active contract, and why."""

    reason: str
    by_user_id: str
    by_side: Literal["client", "contractor"]
    requested_at: str


class ContractOut(ApiModel):
    id: str
    status: Status
    version: int
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
    pdf_sha256: str
    final_pdf_sha256: str | None
    activated_at: str | None
    ledger_entry_id: int | None
    completed_at: str | None
    review_days: int = 14
    """Days the client has to answer a submission before it releases on its own."""
    notice_days: int = 0
    """Days of notice a termination gives (0: it ends the contract at once)."""
    termination: TerminationOut | None = None
    termination_ends_at: str | None = None
    """When a termination with notice ends the contract (``active`` until then)."""
    terminated_at: str | None = None
    signing_days: int = 14
    """Days from sending to the signing deadline (issue 16)."""
    reminder_after_days: int = 3
    """Days after sending of the first reminder to whoever must sign next."""
    reminder_every_days: int = 2
    """Days between later reminders (none at or after the deadline)."""
    sent_at: str | None = None
    signing_deadline: str | None = None
    """Set when sent; unsigned by then, the contract is ``expired``."""
    next_reminder_at: str | None = None
    reminders_sent: int = 0
    last_reminder_at: str | None = None
    expired_at: str | None = None
    end_date: str | None = None
    """The last day of the work, when the contract gives one."""
    terms_version: int = 1
    """1: the terms as first signed; each amendment in force adds one."""
    open_amendment: int | None = None
    """The number of the amendment still to be signed, if any."""
    history: list[HistoryEntry]
    created_at: str
    updated_at: str


class AdminVoidIn(ApiModel):
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), MULTI_LINE
    ]
    actor_user_id: Id
    """The admin user who decided it (recorded in the contract's history)."""


class TransitionIn(ApiModel):
    to: Literal["client_signed", "fully_signed", "declined"]
    expected_version: Annotated[int, Strict(), Field(ge=1)]
    actor_user_id: Id
    actor_company_id: Id | None = None
    """The client company the actor moves it for (a member the signature
    service checked); ``None``: the contractor."""
    reason: Reason | None = None


class FinalDocumentOut(ApiModel):
    sha256: str
    version: int


CONTRACTS = Call(
    "contract",
    "GET",
    "/internal/contracts",
    Page[ContractOut],
    callers=("admin",),
    summary="Contracts across tenants: by status, company or contractor.",
)
VOID = Call(
    "contract",
    "POST",
    "/internal/contracts/{contract_id}/void",
    ContractOut,
    callers=("admin",),
    body=AdminVoidIn,
    summary="An admin voids a contract before it is fully signed.",
)
CONTRACT = Lookup(
    "contract",
    "GET",
    "/internal/contracts/{contract_id}",
    ContractOut,
    callers=("admin", "ledger", "payment", "signature"),
    summary="One contract, whoever's it is.",
)
DOCUMENT = Call(
    "contract",
    "GET",
    "/internal/contracts/{contract_id}/document",
    bytes,
    callers=("signature",),
    summary="The contract's PDF bytes (?kind=original|final).",
)
FINAL_DOCUMENT = Call(
    "contract",
    "PUT",
    "/internal/contracts/{contract_id}/documents/final",
    FinalDocumentOut,
    callers=("signature",),
    content_type="application/pdf",
    summary="Store the signed document (raw PDF body).",
)
TRANSITION = Call(
    "contract",
    "POST",
    "/internal/contracts/{contract_id}/transitions",
    ContractOut,
    callers=("signature",),
    body=TransitionIn,
    summary="Move a contract on a signature or a decline.",
)

AmendmentStatus = Literal[
    "sent_for_signature", "client_signed", "fully_signed", "declined", "withdrawn"
]
"""An amendment's life (issue 16, ADR 0017): signed in order like the
contract; ``fully_signed`` is in force."""


class AmendmentForSigning(ApiModel):
    """An amendment as the signature service signs it: its own status, version
    and documents, and the contract's parties and names."""

    contract_id: str
    number: int
    status: AmendmentStatus
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


class AmendmentTransitionIn(TransitionIn):
    """A move of an amendment; the contractor's signature (``fully_signed``)
    names both signatures and their ledger entries, which ``contract.amended``
    carries."""

    signature_ids: list[Id] = Field(default_factory=list, max_length=2)
    ledger_entry_ids: list[Annotated[int, Strict(), Field(ge=1)]] = Field(
        default_factory=list, max_length=2
    )


AMENDMENT = Lookup(
    "contract",
    "GET",
    "/internal/contracts/{contract_id}/amendments/{number}",
    AmendmentForSigning,
    callers=("signature",),
    summary="One amendment of a contract, for signing.",
)
AMENDMENT_DOCUMENT = Call(
    "contract",
    "GET",
    "/internal/contracts/{contract_id}/amendments/{number}/document",
    bytes,
    callers=("signature",),
    summary="The amendment's PDF bytes (?kind=original|final).",
)
AMENDMENT_FINAL_DOCUMENT = Call(
    "contract",
    "PUT",
    "/internal/contracts/{contract_id}/amendments/{number}/documents/final",
    FinalDocumentOut,
    callers=("signature",),
    content_type="application/pdf",
    summary="Store the amendment's signed document (raw PDF body).",
)
AMENDMENT_TRANSITION = Call(
    "contract",
    "POST",
    "/internal/contracts/{contract_id}/amendments/{number}/transitions",
    AmendmentForSigning,
    callers=("signature",),
    body=AmendmentTransitionIn,
    summary="Move an amendment on a signature or a decline; fully signed puts it in force.",
)

ROUTES = (
    CONTRACTS,
    VOID,
    CONTRACT,
    DOCUMENT,
    FINAL_DOCUMENT,
    TRANSITION,
    AMENDMENT,
    AMENDMENT_DOCUMENT,
    AMENDMENT_FINAL_DOCUMENT,
    AMENDMENT_TRANSITION,
)
