"""The contractor service's tables: ``profiles`` (by id; the id is derived
from the user, so ``by-user`` is for operators), ``engagements`` (contractor ↔
company, listed per contractor and per company) and ``bank-details`` (one
per contractor, sensitive fields sealed). Nothing else reads or writes them."""

from __future__ import annotations

from dataclasses import replace

from mindlinks_contractor.domain import Engagement, Profile, StoredBankDetails
from mindlinks_contractor.vault import Sealed
from mindlinks_fleet.internal.contractor import KycStatus
from mindlinks_kit.dynamo import Item, StaleVersion, Table, UnitOfWork, values
from mindlinks_kit.pages import query_page, scan_page
from mindlinks_kit.records import Record

PROFILES = Record(Profile)
ENGAGEMENTS = Record(Engagement, absent={"company_name": ""})
BANK_DETAILS = Record(
    StoredBankDetails,
    embedded={
        "sealed": Record(Sealed, names={"encrypted_key": "encryptedDataKey", "fields": "sealed"})
    },
    absent={"masked": {}},
)
"""Bank details, the sealed part as ``keyId``, ``encryptedDataKey`` and
``sealed`` (the encrypted fields) beside the rest."""


def _profile_from(item: Item) -> Profile:
    # Profiles from before updates were recorded.
    profile = PROFILES.read({"updatedAt": item["createdAt"], **item})
    if profile.kyc_status != "verified":
        return replace(profile, verified_legal_name=None)
    if not profile.verified_legal_name:
        # Verified before the name was recorded: the name has been locked since.
        return replace(profile, verified_legal_name=profile.name)
    return profile


class ContractorStore:
    def __init__(self, profiles: Table, engagements: Table, bank_details: Table) -> None:
        self.profiles = profiles
        self.engagements_table = engagements
        self.bank = bank_details

    async def profile(self, contractor_id: str) -> Profile | None:
        item = await self.profiles.get({"id": contractor_id})
        return _profile_from(item) if item else None

    async def profile_page(
        self, kyc_status: KycStatus | None, limit: int, start: Item | None
    ) -> tuple[list[Profile], Item | None]:
        """Of one KYC status newest first (``by-kyc-status``), else in scan
        order (the table holds profiles only)."""
        if kyc_status is not None:
            partition = {"kycStatus": kyc_status}
            items, last = await query_page(
                self.profiles, "by-kyc-status", partition, limit, start, forward=False
            )
        else:
            items, last = await scan_page(self.profiles, limit, start)
        return [_profile_from(i) for i in items], last

    def add_profile(self, uow: UnitOfWork, profile: Profile) -> None:
        uow.create(self.profiles, PROFILES.item(profile), key="id", on_conflict=StaleVersion())

    def replace_profile(self, uow: UnitOfWork, profile: Profile, *, expected_version: int) -> None:
        uow.replace(self.profiles, PROFILES.item(profile), expected_version=expected_version)

    async def engagement(self, contractor_id: str, company_id: str) -> Engagement | None:
        item = await self.engagements_table.get(
            {"contractorId": contractor_id, "companyId": company_id}
        )
        return ENGAGEMENTS.read(item) if item else None

    def add_engagement(self, uow: UnitOfWork, engagement: Engagement) -> None:
        uow.put(
            self.engagements_table,
            ENGAGEMENTS.item(engagement),
            condition="attribute_not_exists(contractorId)",
            on_conflict=StaleVersion(),
        )

    async def engagements(
        self, contractor_id: str, limit: int, start: Item | None
    ) -> tuple[list[Engagement], Item | None]:
        partition = {"contractorId": contractor_id}
        items, last = await query_page(self.engagements_table, None, partition, limit, start)
        return [ENGAGEMENTS.read(i) for i in items], last

    async def company_ids(self, contractor_id: str) -> list[str]:
        found: list[str] = []
        start: Item | None = None
        while True:
            items, start = await self.engagements_table.query(
                "contractorId = :c", values=values(c=contractor_id), limit=100, start=start
            )
            found.extend(i["companyId"] for i in items)
            if start is None:
                return found

    async def bank_details(self, contractor_id: str) -> StoredBankDetails | None:
        item = await self.bank.get({"contractorId": contractor_id})
        return BANK_DETAILS.read(item) if item else None

    def put_bank_details(
        self, uow: UnitOfWork, details: StoredBankDetails, *, expected_version: int | None
    ) -> None:
        if expected_version is None:
            uow.create(
                self.bank,
                BANK_DETAILS.item(details),
                key="contractorId",
                on_conflict=StaleVersion(),
            )
        else:
            uow.replace(self.bank, BANK_DETAILS.item(details), expected_version=expected_version)
