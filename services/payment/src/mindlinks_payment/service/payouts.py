"""Contractors' payout accounts: a Stripe Express connected account per
contractor, opened once, onboarded on Stripe's hosted pages, and the
destination of every release.

No FastAPI here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

import structlog

from mindlinks_fleet.internal.contractor import ContractorRecord
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import ConditionFailed
from mindlinks_payment.domain import (
    ContractorProfileMissing,
    PayoutAccount,
    PayoutAccountIncomplete,
    PayoutAccountMissing,
    PayoutAccountNotFound,
)
from mindlinks_payment.providers import AccountLink, PaymentsProvider

log = structlog.get_logger("mindlinks.payouts")


class AccountStore(Protocol):
    async def account(self, contractor_id: str) -> PayoutAccount | None: ...
    async def create_account(self, account: PayoutAccount) -> None: ...
    async def save_account_status(self, account: PayoutAccount) -> None: ...


ContractorLookup = Callable[[str], Awaitable[ContractorRecord | None]]
"""A user's contractor profile, or ``None`` when they have none: the contractor
service's ``CONTRACTOR_BY_USER``."""


class Payouts:
    def __init__(
        self,
        *,
        store: AccountStore,
        provider: PaymentsProvider,
        contractor_of: ContractorLookup,
        stripe_key: Callable[[str, str], str],
        refresh_url: str,
        return_url: str,
    ) -> None:
        self.store = store
        self.provider = provider
        self.contractor_of = contractor_of
        self.stripe_key = stripe_key
        self.refresh_url = refresh_url
        self.return_url = return_url

    async def _contractor(self, user_id: str) -> ContractorRecord:
        contractor = await self.contractor_of(user_id)
        if contractor is None:
            raise ContractorProfileMissing()
        return contractor

    async def open(self, user_id: str) -> tuple[PayoutAccount, AccountLink, bool]:
        """The contractor's account (opened the first time) and a fresh
        onboarding link (links are single-use and expire within minutes).
        Concurrent first calls open one Stripe account: its idempotency key is
        derived from the contractor."""
        contractor = await self._contractor(user_id)
        account = await self.store.account(contractor.id)
        created = account is None
        if account is None:
            account = await self._open(contractor)
        link = await self.provider.create_account_link(
            account_id=account.account_id, refresh_url=self.refresh_url, return_url=self.return_url
        )
        return account, link, created

    async def _open(self, contractor: ContractorRecord) -> PayoutAccount:
        metadata: Mapping[str, str] = {"contractorId": contractor.id, "userId": contractor.user_id}
        remote = await self.provider.create_express_account(
            email=contractor.email,
            metadata=metadata,
            idempotency_key=self.stripe_key("account", contractor.id),
        )
        now = now_iso()
        account = PayoutAccount(
            contractor_id=contractor.id,
            user_id=contractor.user_id,
            account_id=remote.id,
            email=contractor.email,
            created_at=now,
            updated_at=now,
        ).with_status(remote)
        try:
            await self.store.create_account(account)
        except ConditionFailed:
            existing = await self.store.account(contractor.id)
            if existing is None:
                raise
            return existing
        log.info("payout_account.opened", contractor_id=contractor.id, account_id=remote.id)
        return account

    async def status(self, user_id: str) -> PayoutAccount:
        """The caller's account as Stripe sees it now (stored for releases)."""
        contractor = await self._contractor(user_id)
        account = await self.store.account(contractor.id)
        if account is None:
            raise PayoutAccountNotFound()
        return await self._refresh(account)

    async def _refresh(self, account: PayoutAccount) -> PayoutAccount:
        fresh = account.with_status(await self.provider.retrieve_account(account.account_id))
        if not fresh.same_status(account):
            await self.store.save_account_status(fresh)
        return fresh

    async def ready_destination(self, contractor_id: str) -> str:
        """The connected account a release transfers to; 409 when there is none
        or it cannot take transfers yet (asked again from Stripe before saying so)."""
        account = await self.store.account(contractor_id)
        if account is None:
            raise PayoutAccountMissing()
        if not account.transfers_active:
            account = await self._refresh(account)
        if not account.transfers_active:
            raise PayoutAccountIncomplete()
        return account.account_id
