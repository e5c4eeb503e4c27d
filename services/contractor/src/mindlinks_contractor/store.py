"""The contractor service's tables: ``profiles`` (by id; the id is derived
from the user, so ``by-user`` is for operators), ``engagements`` (contractor ↔
company, listed per contractor and per company) and ``bank-details`` (one
per contractor, sensitive fields sealed). Nothing else reads or writes them."""

from __future__ import annotations

from typing import Any

from mindlinks_contractor.domain import Engagement, Profile, StoredBankDetails
from mindlinks_contractor.vault import Sealed
from mindlinks_fleet.internal.contractor import KycStatus
from mindlinks_kit.address import Address
from mindlinks_kit.dynamo import Item, StaleVersion, Table, UnitOfWork, values


def _address_item(address: Address | None) -> Item | None:
    if address is None:
        return None
    return {
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "region": address.region,
        "postalCode": address.postal_code,
        "country": address.country,
    }


def _address_from(item: Item | None) -> Address | None:
    if not item:
        return None
    return Address(
        line1=item["line1"],
        line2=item.get("line2"),
        city=item["city"],
        region=item.get("region"),
        postal_code=item["postalCode"],
        country=item["country"],
    )


def _profile_item(profile: Profile) -> Item:
    return {
        "id": profile.id,
        "userId": profile.user_id,
        "name": profile.name,
        "email": profile.email,
        "phone": profile.phone,
        "address": _address_item(profile.address),
        "country": profile.country,
        "taxId": profile.tax_id,
        "kycStatus": profile.kyc_status,
        "kycDecidedAt": profile.kyc_decided_at,
        "kycReason": profile.kyc_reason,
        "kycSessionId": profile.kyc_session_id,
        "displayName": profile.display_name,
        "verifiedLegalName": profile.verified_legal_name,
        "createdAt": profile.created_at,
        "updatedAt": profile.updated_at,
        "version": profile.version,
    }


def _profile_from(item: Item) -> Profile:
    status = item.get("kycStatus", "not_started")
    verified_name = item.get("verifiedLegalName")
    if status == "verified" and not verified_name:
        # Verified before the name was recorded: the name has been locked since.
        verified_name = item["name"]
    return Profile(
        id=item["id"],
        user_id=item["userId"],
        name=item["name"],
        email=item["email"],
        phone=item.get("phone"),
        address=_address_from(item.get("address")),
        country=item.get("country"),
        tax_id=item.get("taxId"),
        kyc_status=status,
        kyc_decided_at=item.get("kycDecidedAt"),
        kyc_reason=item.get("kycReason"),
        kyc_session_id=item.get("kycSessionId"),
        display_name=item.get("displayName"),
        verified_legal_name=verified_name if status == "verified" else None,
        created_at=item["createdAt"],
        updated_at=item.get("updatedAt") or item["createdAt"],
        version=int(item.get("version", 1)),
    )


def _engagement_item(engagement: Engagement) -> Item:
    return {
        "contractorId": engagement.contractor_id,
        "companyId": engagement.company_id,
        "companyName": engagement.company_name,
        "invitationId": engagement.invitation_id,
        "since": engagement.since,
    }


def _engagement_from(item: Item) -> Engagement:
    return Engagement(
        contractor_id=item["contractorId"],
        company_id=item["companyId"],
        company_name=item.get("companyName", ""),
        invitation_id=item["invitationId"],
        since=item["since"],
    )


def _bank_item(details: StoredBankDetails) -> Item:
    return {
        "contractorId": details.contractor_id,
        "accountHolder": details.account_holder,
        "country": details.country,
        "currency": details.currency,
        "bankName": details.bank_name,
        "scheme": details.scheme,
        "masked": details.masked,
        "keyId": details.sealed.key_id,
        "encryptedDataKey": details.sealed.encrypted_key,
        "sealed": details.sealed.fields,
        "updatedAt": details.updated_at,
        "version": details.version,
    }


def _bank_from(item: Item) -> StoredBankDetails:
    sealed: dict[str, Any] = item.get("sealed") or {}
    return StoredBankDetails(
        contractor_id=item["contractorId"],
        account_holder=item["accountHolder"],
        country=item["country"],
        currency=item["currency"],
        bank_name=item.get("bankName"),
        scheme=item["scheme"],
        masked=dict(item.get("masked") or {}),
        sealed=Sealed(
            key_id=item["keyId"], encrypted_key=item["encryptedDataKey"], fields=dict(sealed)
        ),
        updated_at=item["updatedAt"],
        version=int(item.get("version", 1)),
    )


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
        order (the table holds profiles only). Reads one more than asked, so
        the last page has no cursor."""
        if kyc_status is not None:
            items, last_read = await self.profiles.query(
                "kycStatus = :k",
                values=values(k=kyc_status),
                index="by-kyc-status",
                limit=limit + 1,
                start=start,
                forward=False,
            )
        else:
            items, last_read = await self.profiles.scan(limit=limit + 1, start=start)
        page = [_profile_from(i) for i in items[:limit]]
        if len(items) <= limit:
            return page, last_read  # None unless the read stopped at 1 MB
        last = page[-1]
        if kyc_status is None:
            return page, {"id": last.id}
        return page, {"id": last.id, "kycStatus": last.kyc_status, "createdAt": last.created_at}

    def add_profile(self, uow: UnitOfWork, profile: Profile) -> None:
        uow.create(self.profiles, _profile_item(profile), key="id", on_conflict=StaleVersion())

    def replace_profile(self, uow: UnitOfWork, profile: Profile, *, expected_version: int) -> None:
        uow.replace(self.profiles, _profile_item(profile), expected_version=expected_version)

    async def engagement(self, contractor_id: str, company_id: str) -> Engagement | None:
        item = await self.engagements_table.get(
            {"contractorId": contractor_id, "companyId": company_id}
        )
        return _engagement_from(item) if item else None

    def add_engagement(self, uow: UnitOfWork, engagement: Engagement) -> None:
        uow.put(
            self.engagements_table,
            _engagement_item(engagement),
            condition="attribute_not_exists(contractorId)",
            on_conflict=StaleVersion(),
        )

    async def engagements(
        self, contractor_id: str, limit: int, start: Item | None
    ) -> tuple[list[Engagement], Item | None]:
        """Reads one more than asked, so the last page has no cursor."""
        items, _ = await self.engagements_table.query(
            "contractorId = :c", values=values(c=contractor_id), limit=limit + 1, start=start
        )
        page = [_engagement_from(i) for i in items[:limit]]
        if len(items) <= limit:
            return page, None
        return page, {"contractorId": contractor_id, "companyId": page[-1].company_id}

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
        return _bank_from(item) if item else None

    def put_bank_details(
        self, uow: UnitOfWork, details: StoredBankDetails, *, expected_version: int | None
    ) -> None:
        if expected_version is None:
            uow.create(
                self.bank, _bank_item(details), key="contractorId", on_conflict=StaleVersion()
            )
        else:
            uow.replace(self.bank, _bank_item(details), expected_version=expected_version)
