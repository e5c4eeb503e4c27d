"""The client service's request and response bodies (camelCase on the wire)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, model_validator
from pydantic.json_schema import SkipJsonSchema

from mindlinks_client.domain import (
    Company,
    Invitation,
    Member,
    Registration,
    RegistryRecord,
    Review,
    Shown,
)
from mindlinks_client.teams import ChangeKind, MemberChange, MemberInvitation, ShownStatus
from mindlinks_client.vetting import Authority
from mindlinks_fleet.events import CompanyStatus
from mindlinks_fleet.internal.auth import UserRecord
from mindlinks_fleet.internal.client import (
    AuthorityOut,
    CompanyAdminRecord,
    CompanyRecord,
    Hold,
    Name,
    Redeemed,
    RegistryOut,
    ReviewOut,
)
from mindlinks_fleet.teams import CompanyRole
from mindlinks_kit.address import Address, City, Country, Line, PostalCode
from mindlinks_kit.schemas import EMAIL_SCHEMA, ApiModel, from_attributes


def _email(value: str) -> str:
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return checked.normalized.lower()


def _compact(value: Any) -> Any:
    return re.sub(r"\s+", "", value).upper() if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


Email = Annotated[str, StringConstraints(max_length=320), AfterValidator(_email), EMAIL_SCHEMA]
JurisdictionCode = Annotated[
    str, StringConstraints(pattern=r"^[a-z]{2}(_[a-z0-9]{1,6})?$"), BeforeValidator(_lower)
]
"""OpenCorporates' jurisdiction code: ``gb``, ``us_de``, ``ca_bc``."""
CompanyNumber = Annotated[
    str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9./-]{0,29}$"), BeforeValidator(_compact)
]


# Not the kit's AddressIn/AddressOut: a company's address has no ``region``
# (the wire refuses one), so the models stay here, built from the kit's types.
class AddressIn(ApiModel):
    line1: Line
    line2: Line | None = None
    city: City
    postal_code: PostalCode
    country: Country

    def value(self) -> Address:
        return from_attributes(Address, self)


class AddressOut(ApiModel):
    line1: str
    line2: str | None
    city: str
    postal_code: str
    country: str

    @classmethod
    def of(cls, address: Address) -> AddressOut:
        return cls.model_validate(address, from_attributes=True)


class RegisterCompany(ApiModel):
    legal_name: Name
    trading_name: Name | None = None
    jurisdiction_code: JurisdictionCode
    company_number: CompanyNumber
    address: AddressIn

    def value(self) -> Registration:
        return Registration(
            legal_name=self.legal_name,
            trading_name=self.trading_name,
            jurisdiction_code=self.jurisdiction_code,
            company_number=self.company_number,
            address=self.address.value(),
        )


class CompanyOut(ApiModel):
    id: str
    owner_user_id: str
    legal_name: str
    trading_name: str | None
    jurisdiction_code: str
    company_number: str
    address: AddressOut
    status: CompanyStatus
    name_mismatch: bool
    hold_reasons: list[Hold]
    """Why it is held for review: ``registry-unreachable``, ``name-mismatch``,
    ``officer-not-matched``, ``number-already-registered``."""
    registry: RegistryOut
    created_at: str
    updated_at: str
    version: int

    @classmethod
    def of(cls, company: Company) -> CompanyOut:
        return cls(
            id=company.id,
            owner_user_id=company.owner_user_id,
            legal_name=company.legal_name,
            trading_name=company.trading_name,
            jurisdiction_code=company.jurisdiction_code,
            company_number=company.company_number,
            address=AddressOut.of(company.address),
            status=company.status,
            name_mismatch=company.name_mismatch,
            hold_reasons=list(company.holds),
            registry=registry_out(company.registry),
            created_at=company.created_at,
            updated_at=company.updated_at,
            version=company.version,
        )


class CompanyPatch(ApiModel):
    """Only the fields present change (``tradingName: null`` clears it);
    ``version`` is the version last read (optimistic locking)."""

    address: AddressIn | SkipJsonSchema[None] = None
    trading_name: Name | None = None
    version: int = Field(ge=1)

    @model_validator(mode="after")
    def _address_is_not_null(self) -> CompanyPatch:
        if "address" in self.model_fields_set and self.address is None:
            raise ValueError("address cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if self.address is not None:
            changes["address"] = self.address.value()
        if "trading_name" in self.model_fields_set:
            changes["trading_name"] = self.trading_name
        return changes


class InviteContractor(ApiModel):
    email: Email
    name: Name | None = None


class InvitationOut(ApiModel):
    id: str
    company_id: str
    email: str
    name: str | None
    status: Shown
    invited_by_user_id: str
    created_at: str
    expires_at: str
    accepted_at: str | None
    revoked_at: str | None
    contractor_id: str | None

    @classmethod
    def of(cls, invitation: Invitation) -> InvitationOut:
        return cls(
            id=invitation.id,
            company_id=invitation.company_id,
            email=invitation.email,
            name=invitation.name,
            status=invitation.shown_status,
            invited_by_user_id=invitation.invited_by_user_id,
            created_at=invitation.created_at,
            expires_at=invitation.expires_at,
            accepted_at=invitation.accepted_at,
            revoked_at=invitation.revoked_at,
            contractor_id=invitation.contractor_id,
        )


class EngagedContractor(ApiModel):
    contractor_id: str
    name: str | None
    email: str
    accepted_at: str
    invitation_id: str

    @classmethod
    def of(cls, invitation: Invitation) -> EngagedContractor:
        assert invitation.contractor_id is not None
        assert invitation.accepted_at is not None
        return cls(
            contractor_id=invitation.contractor_id,
            name=invitation.contractor_name or invitation.name,
            email=invitation.email,
            accepted_at=invitation.accepted_at,
            invitation_id=invitation.id,
        )


# internal: the wire models are declared in mindlinks_fleet.internal.client --


def registry_out(record: RegistryRecord) -> RegistryOut:
    return RegistryOut.model_validate(record, from_attributes=True)


def company_record(company: Company) -> CompanyRecord:
    return CompanyRecord.model_validate(company, from_attributes=True)


def review_out(review: Review) -> ReviewOut:
    return ReviewOut.model_validate(review, from_attributes=True)


def authority_out(authority: Authority) -> AuthorityOut:
    return AuthorityOut.model_validate(authority, from_attributes=True)


def company_admin_record(company: Company) -> CompanyAdminRecord:
    return CompanyAdminRecord(
        **company_record(company).model_dump(),
        registry=registry_out(company.registry),
        hold_reasons=list(company.holds),
        authority=authority_out(company.authority),
        conflicts_with=company.conflicts_with,
        review=review_out(company.review) if company.review else None,
        created_at=company.created_at,
    )


def redeemed(invitation: Invitation, replayed: bool) -> Redeemed:
    assert invitation.accepted_at is not None
    return Redeemed(
        invitation_id=invitation.id,
        company_id=invitation.company_id,
        company_name=invitation.company_name,
        invited_by_user_id=invitation.invited_by_user_id,
        accepted_at=invitation.accepted_at,
        replayed=replayed,
    )


# teams ------------------------------------------------------------------------


class MemberOut(ApiModel):
    user_id: str
    email: str | None
    """``None``: the account no longer exists at auth."""
    name: str | None
    role: CompanyRole
    added_at: str
    version: int

    @classmethod
    def of(cls, member: Member, user: UserRecord | None) -> MemberOut:
        return cls(
            user_id=member.user_id,
            email=user.email if user else None,
            name=user.name if user else None,
            role=member.role,
            added_at=member.added_at,
            version=member.version,
        )


class MemberPatch(ApiModel):
    role: CompanyRole
    version: int = Field(ge=1)
    """The member's version last read (optimistic locking)."""


class InviteMember(ApiModel):
    email: Email
    role: CompanyRole


class MemberInvitationOut(ApiModel):
    id: str
    email: str
    role: CompanyRole
    status: ShownStatus
    invited_by_user_id: str
    expires_at: str
    created_at: str
    accepted_at: str | None
    revoked_at: str | None

    @classmethod
    def of(cls, invitation: MemberInvitation) -> MemberInvitationOut:
        return cls(
            id=invitation.id,
            email=invitation.email,
            role=invitation.role,
            status=invitation.shown_status,
            invited_by_user_id=invitation.invited_by_user_id,
            expires_at=invitation.expires_at,
            created_at=invitation.created_at,
            accepted_at=invitation.accepted_at,
            revoked_at=invitation.revoked_at,
        )


class AcceptMemberInvitation(ApiModel):
    token: Annotated[str, StringConstraints(min_length=16, max_length=256)]


class MembershipOut(ApiModel):
    company_id: str
    company_name: str
    role: CompanyRole

    @classmethod
    def of(cls, company: Company, role: CompanyRole) -> MembershipOut:
        return cls(
            company_id=company.id,
            company_name=company.trading_name or company.legal_name,
            role=role,
        )


class MembershipsOut(ApiModel):
    items: list[MembershipOut]


class MemberChangeOut(ApiModel):
    change_id: str
    change: ChangeKind
    """``added``, ``role-changed`` or ``removed``."""
    user_id: str
    role: CompanyRole | None
    """The new role; ``None`` once removed."""
    previous_role: CompanyRole | None
    actor_user_id: str
    """Who made the change (the member themself when accepting or leaving)."""
    at: str

    @classmethod
    def of(cls, change: MemberChange) -> MemberChangeOut:
        return cls.model_validate(change, from_attributes=True)
