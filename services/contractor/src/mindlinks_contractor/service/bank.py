"""Bank details: validated by ``domain``'s rules, each sensitive field
encrypted with KMS envelope encryption (``vault``), shown only masked.
Decrypted only for the payment service's payouts.

No FastAPI here; routes commit the unit of work, never this module.
"""

from __future__ import annotations

from typing import Protocol

from mindlinks_contractor.domain import BankAccount, BankDetailsNotFound, StoredBankDetails, context
from mindlinks_contractor.vault import Vault
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import StaleVersion, UnitOfWork


class Store(Protocol):
    async def bank_details(self, contractor_id: str) -> StoredBankDetails | None: ...
    def put_bank_details(
        self, uow: UnitOfWork, details: StoredBankDetails, *, expected_version: int | None
    ) -> None: ...


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
