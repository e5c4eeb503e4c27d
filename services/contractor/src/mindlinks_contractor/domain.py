"""The contractor rules and values: a profile and its engagements, one
contractor id per user, which fields the owner may edit and when the legal
name locks; bank details validated (IBAN mod-97, ABA routing checksum, UK
sort codes) and shown only masked; the problems the use cases raise.

Pure: no I/O, no FastAPI; ``service`` applies them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from mindlinks_contractor.vault import Sealed
from mindlinks_fleet.internal.contractor import KycStatus, Scheme
from mindlinks_kit.address import Address
from mindlinks_kit.errors import Conflict, NotFound


class ContractorNotOnboarded(NotFound):
    code = "contractor-not-onboarded"
    title = "No contractor profile yet: accept an invitation first"


class ContractorNotFound(NotFound):
    """Unknown and invisible contractors answer alike."""


class AccountNotFound(NotFound):
    code = "account-not-found"
    title = "The account behind this token does not exist"


class LegalNameLocked(Conflict):
    code = "legal-name-locked"
    title = "A verified legal name cannot be changed"


class BankDetailsNotFound(NotFound):
    code = "bank-details-not-found"
    title = "No bank details yet"


LOCKED_DETAIL = (
    "Your legal name was verified against your identity document (KYC) and is the name "
    "your contracts carry. Changing it needs a new identity verification: contact support. "
    "Your display name (displayName) can be changed at any time."
)


_ID_NAMESPACE = uuid.UUID("0c6f2d55-1b7e-4e0f-9d2a-6a4c1f3b8e71")


EDITABLE = ("name", "display_name", "phone", "address", "country", "tax_id")


def contractor_id_for(user_id: str) -> str:
    """One contractor per user, and the same id if onboarding is retried."""
    return uuid.uuid5(_ID_NAMESPACE, f"contractor:{user_id}").hex


@dataclass(frozen=True)
class Profile:
    id: str
    user_id: str
    name: str
    """The legal name: editable until KYC verifies it, then the verified one."""
    email: str
    created_at: str
    updated_at: str
    kyc_status: KycStatus = "not_started"
    phone: str | None = None
    address: Address | None = None
    country: str | None = None
    tax_id: str | None = None
    kyc_decided_at: str | None = None
    kyc_reason: str | None = None
    kyc_session_id: str | None = None
    display_name: str | None = None
    """How the contractor likes to be shown; free to change, never on a contract."""
    verified_legal_name: str | None = None
    """While ``verified``: the legal name KYC established. Contracts carry this."""
    version: int = 1

    @property
    def name_locked(self) -> bool:
        return self.kyc_status == "verified"


@dataclass(frozen=True)
class Engagement:
    contractor_id: str
    company_id: str
    company_name: str
    invitation_id: str
    since: str


@dataclass(frozen=True)
class Account:
    email: str
    name: str


@dataclass(frozen=True)
class Onboarded:
    profile: Profile
    engagement: Engagement
    first: bool
    """The profile was created by this acceptance."""


@dataclass(frozen=True)
class Visible:
    profile: Profile
    private: bool
    """The caller may see the private fields (phone, address, tax id)."""


SENSITIVE = ("iban", "account_number", "routing_number", "sort_code")
"""Encrypted at rest and never shown in clear; the rest (holder, bank name,
country, currency) is what a payout screen shows anyway."""


_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24,
    "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23,
    "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25,
    "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
}  # fmt: skip
"""Lengths of the SEPA countries' IBANs; others are checked by checksum only."""


def normalize_iban(raw: str) -> str:
    return re.sub(r"[\s-]+", "", raw).upper()


def iban_problem(iban: str) -> str | None:
    """Why ``iban`` (normalized) is not an IBAN, or ``None`` (ISO 13616 mod-97)."""
    if not _IBAN.match(iban):
        return "an IBAN is a country code, two check digits and up to 30 letters or digits"
    expected = _IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return f"an IBAN from {iban[:2]} has {expected} characters"
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    if int(number) % 97 != 1:
        return "the IBAN's check digits do not match (a typo?)"
    return None


def routing_problem(routing: str) -> str | None:
    """Why ``routing`` is not an ABA routing number, or ``None`` (3-7-1 checksum)."""
    if not re.fullmatch(r"[0-9]{9}", routing):
        return "a routing number has 9 digits"
    weights = (3, 7, 1) * 3
    if sum(int(d) * w for d, w in zip(routing, weights, strict=True)) % 10:
        return "the routing number's checksum does not match (a typo?)"
    return None


def normalize_sort_code(raw: str) -> str:
    return re.sub(r"[\s-]+", "", raw)


def sort_code_problem(sort_code: str) -> str | None:
    return None if re.fullmatch(r"[0-9]{6}", sort_code) else "a sort code has 6 digits"


def account_number_problem(number: str) -> str | None:
    return None if re.fullmatch(r"[0-9]{4,17}", number) else "an account number has 4-17 digits"


def mask_iban(iban: str) -> str:
    """``GB** **** **** **** 1234``: the country and the last four, nothing
    about the length or the bank."""
    return f"{iban[:2]}** **** **** **** {iban[-4:]}"


def mask_tail(value: str, keep: int = 4) -> str:
    """The last ``keep`` digits, and never more than all but four of them."""
    shown = min(keep, max(len(value) - 4, 0))
    return "*" * max(len(value) - shown, 4) + (value[-shown:] if shown else "")


def mask_sort_code(sort_code: str) -> str:
    return f"**-**-{sort_code[-2:]}"


@dataclass(frozen=True)
class BankAccount:
    """Bank details in clear (as given, or decrypted for a payout)."""

    account_holder: str
    country: str
    currency: str
    bank_name: str | None = None
    iban: str | None = None
    account_number: str | None = None
    routing_number: str | None = None
    sort_code: str | None = None

    @property
    def scheme(self) -> Scheme:
        return "iban" if self.iban else "local"

    def sensitive(self) -> dict[str, str]:
        return {name: value for name in SENSITIVE if (value := getattr(self, name)) is not None}

    def masked(self) -> dict[str, str]:
        masks: dict[str, Callable[[str], str]] = {
            "iban": mask_iban,
            "account_number": mask_tail,
            "routing_number": mask_tail,
            "sort_code": mask_sort_code,
        }
        return {name: masks[name](value) for name, value in self.sensitive().items()}


@dataclass(frozen=True)
class StoredBankDetails:
    contractor_id: str
    account_holder: str
    country: str
    currency: str
    bank_name: str | None
    scheme: Scheme
    masked: dict[str, str]
    sealed: Sealed
    updated_at: str
    version: int = 1


def context(contractor_id: str) -> dict[str, str]:
    """The KMS encryption context: a data key only unwraps for its record."""
    return {"service": "contractor", "record": "bank-details", "contractorId": contractor_id}
