"""The contractor service's internal API: contractors for their peers and
the operator, and the decrypted payout details for the payment service."""

from __future__ import annotations

from typing import Literal

from mindlinks_kit.address import AddressOut
from mindlinks_kit.declaration import Call, Lookup
from mindlinks_kit.schemas import ApiModel, Page

KycStatus = Literal["not_started", "verified", "rejected"]
Scheme = Literal["iban", "local"]


class ContractorRecord(ApiModel):
    """What peers may know about a contractor. A contract names the party by
    ``verifiedLegalName`` (``null`` unless ``kycStatus`` is ``verified``)."""

    id: str
    user_id: str
    name: str
    display_name: str | None = None
    verified_legal_name: str | None = None
    email: str
    kyc_status: KycStatus
    company_ids: list[str]
    address: AddressOut | None = None
    country: str | None = None
    tax_id: str | None = None
    """The contractor's own address and tax id: printed on the invoices the
    contractor issues (the payment service's); engaged clients see them nowhere else."""


class ContractorListItem(ContractorRecord):
    """A contractor in the operators' lists."""

    created_at: str


class PayoutDetails(ApiModel):
    """Decrypted bank details, for the payment service's transfers only."""

    contractor_id: str
    account_holder: str
    country: str
    currency: str
    bank_name: str | None
    scheme: Scheme
    iban: str | None
    account_number: str | None
    routing_number: str | None
    sort_code: str | None


CONTRACTORS = Call(
    "contractor",
    "GET",
    "/internal/contractors",
    Page[ContractorListItem],
    callers=("admin",),
    summary="Contractors: of one KYC status newest first, or all.",
)
CONTRACTOR_BY_USER = Lookup(
    "contractor",
    "GET",
    "/internal/contractors/by-user/{user_id}",
    ContractorRecord,
    callers=("admin", "contract", "kyc", "payment"),
    summary="A user's contractor profile.",
)
CONTRACTOR = Lookup(
    "contractor",
    "GET",
    "/internal/contractors/{contractor_id}",
    ContractorRecord,
    callers=("admin", "contract"),
    summary="What a peer may know about one contractor.",
)
PAYOUT_DETAILS = Call(
    "contractor",
    "GET",
    "/internal/contractors/{contractor_id}/payout-details",
    PayoutDetails,
    callers=("payment",),
    summary="Decrypted bank details, for the payment service's transfers only.",
)

ROUTES = (CONTRACTORS, CONTRACTOR_BY_USER, CONTRACTOR, PAYOUT_DETAILS)
