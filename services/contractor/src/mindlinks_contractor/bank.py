"""Bank details: validated (IBAN mod-97, ABA routing checksum, UK sort codes),
each sensitive field encrypted with KMS envelope encryption (``vault``),
shown only masked. Decrypted only for the payment service's payouts.

No FastAPI here; routes commit the unit of work, never this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from mindlinks_contractor.vault import Sealed, Vault
from mindlinks_fleet.internal.contractor import Scheme
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import StaleVersion, UnitOfWork
from mindlinks_kit.errors import NotFound


class BankDetailsNotFound(NotFound):
    code = "bank-details-not-found"
    title = "No bank details yet"


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


class Store(Protocol):
    async def bank_details(self, contractor_id: str) -> StoredBankDetails | None: ...
    def put_bank_details(
        self, uow: UnitOfWork, details: StoredBankDetails, *, expected_version: int | None
    ) -> None: ...


def context(contractor_id: str) -> dict[str, str]:
    """The KMS encryption context: a data key only unwraps for its record."""
    return {"service": "contractor", "record": "bank-details", "contractorId": contractor_id}


class BankDetails:
    def __init__(self, store: Store, vault: Vault) -> None:
        self.store = store
        self.vault = vault

    async def replace(
        self,
        contractor_id: str,
        account: BankAccount,
        expected_version: int | None,
        uow: UnitOfWork,
    ) -> StoredBankDetails:
        """Replace the contractor's bank details (optimistic locking: the write
        is conditional on the version read; a given ``version`` must be it)."""
        current = await self.store.bank_details(contractor_id)
        if expected_version is not None and (
            current is None or current.version != expected_version
        ):
            raise StaleVersion("The bank details changed since they were read")
        sealed = await self.vault.seal(account.sensitive(), context(contractor_id))
        details = StoredBankDetails(
            contractor_id=contractor_id,
            account_holder=account.account_holder,
            country=account.country,
            currency=account.currency,
            bank_name=account.bank_name,
            scheme=account.scheme,
            masked=account.masked(),
            sealed=sealed,
            updated_at=now_iso(),
            version=current.version + 1 if current else 1,
        )
        self.store.put_bank_details(
            uow, details, expected_version=current.version if current else None
        )
        return details

    async def get(self, contractor_id: str) -> StoredBankDetails:
        details = await self.store.bank_details(contractor_id)
        if details is None:
            raise BankDetailsNotFound()
        return details

    async def payout(self, contractor_id: str) -> BankAccount:
        """Decrypted — for the payment service's transfers only."""
        details = await self.get(contractor_id)
        clear = await self.vault.open(details.sealed, context(contractor_id))
        return BankAccount(
            account_holder=details.account_holder,
            country=details.country,
            currency=details.currency,
            bank_name=details.bank_name,
            **clear,
        )
