"""The contractor service's request and response bodies (camelCase on the wire)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints, model_validator
from pydantic.json_schema import SkipJsonSchema

from mindlinks_contractor.domain import (
    BankAccount,
    Engagement,
    Onboarded,
    Profile,
    StoredBankDetails,
    account_number_problem,
    iban_problem,
    normalize_iban,
    normalize_sort_code,
    routing_problem,
    sort_code_problem,
)
from mindlinks_fleet.internal.contractor import (
    ContractorListItem,
    ContractorRecord,
    KycStatus,
    PayoutDetails,
    Scheme,
)
from mindlinks_kit.address import AddressIn, AddressOut, Country
from mindlinks_kit.schemas import ONE_LINE, ApiModel, from_attributes


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _digits(value: Any) -> Any:
    return "".join(value.split()) if isinstance(value, str) else value


def _iban(value: Any) -> Any:
    return normalize_iban(value) if isinstance(value, str) else value


def _sort_code(value: Any) -> Any:
    return normalize_sort_code(value) if isinstance(value, str) else value


Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE
]
DisplayName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), ONE_LINE
]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), BeforeValidator(_upper)]
"""ISO 4217."""
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+[1-9][0-9]{6,14}$")]
"""E.164 (``+447700900123``)."""
TaxId = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ./-]{1,49}$")
]
Token = Annotated[str, StringConstraints(strip_whitespace=True, min_length=16, max_length=256)]


class AcceptInvitation(ApiModel):
    token: Token


class ContractorOut(ApiModel):
    """A contractor; ``phone``, ``address`` and ``taxId`` are ``null`` for
    callers who may not see them (an engaged client). ``name`` is the legal
    name (locked once verified); ``verifiedLegalName`` is set while KYC is
    ``verified`` and is the name contracts carry; ``displayName`` is free."""

    id: str
    user_id: str
    name: str
    display_name: str | None
    verified_legal_name: str | None
    email: str
    phone: str | None
    address: AddressOut | None
    country: str | None
    tax_id: str | None
    kyc_status: KycStatus
    kyc_decided_at: str | None
    kyc_reason: str | None
    created_at: str
    updated_at: str
    version: int

    @classmethod
    def of(cls, profile: Profile, private: bool = True) -> ContractorOut:
        return cls(
            id=profile.id,
            user_id=profile.user_id,
            name=profile.name,
            display_name=profile.display_name,
            verified_legal_name=profile.verified_legal_name,
            email=profile.email,
            phone=profile.phone if private else None,
            address=AddressOut.of(profile.address) if private and profile.address else None,
            country=profile.country,
            tax_id=profile.tax_id if private else None,
            kyc_status=profile.kyc_status,
            kyc_decided_at=profile.kyc_decided_at,
            kyc_reason=profile.kyc_reason if private else None,
            created_at=profile.created_at,
            updated_at=profile.updated_at,
            version=profile.version,
        )


class ContractorPatch(ApiModel):
    """Only the fields present change; ``displayName``, ``phone``, ``address``,
    ``country`` and ``taxId`` may be ``null`` to clear them. ``version`` is the
    version last read (optimistic locking). ``name`` (the legal name) cannot
    change once KYC has verified it: ``409 legal-name-locked``."""

    # Omitted, not null: the schema offers no ``null`` for it (a null is refused below).
    name: Name | SkipJsonSchema[None] = None
    display_name: DisplayName | None = None
    phone: Phone | None = None
    address: AddressIn | None = None
    country: Country | None = None
    tax_id: TaxId | None = None
    version: int = Field(ge=1)

    @model_validator(mode="after")
    def _name_is_not_null(self) -> ContractorPatch:
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for name in self.model_fields_set - {"version"}:
            value = getattr(self, name)
            changes[name] = value.value() if isinstance(value, AddressIn) else value
        return changes


class EngagementOut(ApiModel):
    company_id: str
    company_name: str
    invitation_id: str
    since: str

    @classmethod
    def of(cls, engagement: Engagement) -> EngagementOut:
        return cls.model_validate(engagement, from_attributes=True)


class AcceptedInvitation(ApiModel):
    contractor_id: str
    contractor: ContractorOut
    engagement: EngagementOut
    first_onboarding: bool
    """The profile was created by this acceptance."""

    @classmethod
    def of(cls, onboarded: Onboarded) -> AcceptedInvitation:
        return cls(
            contractor_id=onboarded.profile.id,
            contractor=ContractorOut.of(onboarded.profile),
            engagement=EngagementOut.of(onboarded.engagement),
            first_onboarding=onboarded.first,
        )


class BankDetailsIn(ApiModel):
    """An IBAN, or a local account number with a US routing number or a UK
    sort code. ``version``, when given, must be the version last read."""

    account_holder: Name
    country: Country
    currency: Currency
    bank_name: Name | None = None
    iban: Annotated[str | None, BeforeValidator(_iban)] = None
    account_number: Annotated[str | None, BeforeValidator(_digits)] = None
    routing_number: Annotated[str | None, BeforeValidator(_digits)] = None
    sort_code: Annotated[str | None, BeforeValidator(_sort_code)] = None
    version: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_valid_account(self) -> BankDetailsIn:
        local = (self.account_number, self.routing_number, self.sort_code)
        if self.iban:
            if any(local):
                raise ValueError("give an IBAN or a local account, not both")
            _check(iban_problem(self.iban))
            return self
        if not self.account_number:
            raise ValueError("give an iban, or an accountNumber with a routingNumber or sortCode")
        _check(account_number_problem(self.account_number))
        if bool(self.routing_number) == bool(self.sort_code):
            raise ValueError("a local account needs either a routingNumber or a sortCode")
        if self.routing_number:
            _check(routing_problem(self.routing_number))
        if self.sort_code:
            _check(sort_code_problem(self.sort_code))
        return self

    def value(self) -> BankAccount:
        return from_attributes(BankAccount, self)


def _check(problem: str | None) -> None:
    if problem is not None:
        raise ValueError(problem)


class BankDetailsOut(ApiModel):
    """Masked: the clear values never leave the service (except to payment)."""

    account_holder: str
    country: str
    currency: str
    bank_name: str | None
    scheme: Scheme
    iban: str | None
    account_number: str | None
    routing_number: str | None
    sort_code: str | None
    updated_at: str
    version: int

    @classmethod
    def of(cls, details: StoredBankDetails) -> BankDetailsOut:
        return cls(
            account_holder=details.account_holder,
            country=details.country,
            currency=details.currency,
            bank_name=details.bank_name,
            scheme=details.scheme,
            iban=details.masked.get("iban"),
            account_number=details.masked.get("account_number"),
            routing_number=details.masked.get("routing_number"),
            sort_code=details.masked.get("sort_code"),
            updated_at=details.updated_at,
            version=details.version,
        )


# internal: the wire models are declared in mindlinks_fleet.internal.contractor


def contractor_record(profile: Profile, company_ids: list[str]) -> ContractorRecord:
    return ContractorRecord(
        id=profile.id,
        user_id=profile.user_id,
        name=profile.name,
        display_name=profile.display_name,
        verified_legal_name=profile.verified_legal_name,
        email=profile.email,
        kyc_status=profile.kyc_status,
        company_ids=company_ids,
        address=AddressOut.of(profile.address) if profile.address else None,
        country=profile.country,
        tax_id=profile.tax_id,
    )


def contractor_list_item(profile: Profile, company_ids: list[str]) -> ContractorListItem:
    return ContractorListItem(
        **contractor_record(profile, company_ids).model_dump(), created_at=profile.created_at
    )


def payout_details(contractor_id: str, account: BankAccount) -> PayoutDetails:
    return PayoutDetails(
        contractor_id=contractor_id,
        account_holder=account.account_holder,
        country=account.country,
        currency=account.currency,
        bank_name=account.bank_name,
        scheme=account.scheme,
        iban=account.iban,
        account_number=account.account_number,
        routing_number=account.routing_number,
        sort_code=account.sort_code,
    )
