"""What the admin service sees and does in payments: transactions and escrow
across tenants, the charges stuck unsettled, and flags for follow-up.

A flag is a note beside the money, never a move of it: it changes no status,
no escrow state, and the first flag stays.

No FastAPI here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import structlog

from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import CursorCodec, Item
from mindlinks_kit.errors import InvalidInput, NotFound
from mindlinks_payment.domain import (
    CHARGE_STATUSES,
    ESCROW_STATES,
    UNSETTLED,
    ChargeStatus,
    Escrow,
    EscrowState,
    Flag,
    Transaction,
)
from mindlinks_payment.listings import Listings, Where


class TransactionNotFound(NotFound):
    code = "transaction-not-found"
    title = "No such transaction"


class StuckExcludesStatus(InvalidInput):
    code = "stuck-excludes-status"
    title = "stuck=true lists every unsettled status; leave out ?status="


log = structlog.get_logger("mindlinks.payments.oversight")


class OversightStore(Protocol):
    async def transaction(self, transaction: str) -> Transaction | None: ...
    async def flag_transaction(self, transaction: str, flag: Flag) -> Transaction | None: ...


@dataclass(frozen=True)
class TransactionQuery:
    status: ChargeStatus | None = None
    contract_id: str | None = None
    stuck: bool = False
    older_than_minutes: int = 60
    """With ``stuck``: how long a charge may stay unsettled before it counts."""

    @property
    def scope(self) -> str:
        stuck = f"{self.older_than_minutes}m" if self.stuck else ""
        return (
            f"payments.transactions:status={self.status or ''}"
            f":contract={self.contract_id or ''}:stuck={stuck}"
        )


def cutoff(older_than_minutes: int, now: datetime | None = None) -> str:
    """The ``createdAt`` a stuck charge is older than, in the stored format."""
    at = (now or datetime.now(UTC)) - timedelta(minutes=older_than_minutes)
    return at.isoformat(timespec="microseconds").replace("+00:00", "Z")


class Oversight:
    def __init__(self, *, listings: Listings, store: OversightStore, cursors: CursorCodec) -> None:
        self.listings = listings
        self.store = store
        self.cursors = cursors

    async def transactions(
        self, query: TransactionQuery, limit: int, cursor: str | None
    ) -> tuple[list[Transaction], str | None]:
        """Newest first by status, by contract, by both, or all; ``stuck``:
        unsettled charges older than the cutoff, oldest first."""
        start = self.cursors.decode(cursor, query.scope)
        if query.stuck:
            found, last = await self._stuck(query, limit, start)
        elif query.contract_id is not None:
            where = Where("status", (query.status,)) if query.status else None
            found, last = await self.listings.transactions_by_contract.page(
                query.contract_id, limit=limit, start=start, newest_first=True, where=where
            )
        elif query.status is not None:
            found, last = await self.listings.transactions_by_status.page(
                query.status, limit=limit, start=start, newest_first=True
            )
        else:
            found, last = await self.listings.transactions_by_status.merged(
                CHARGE_STATUSES, limit=limit, start=start, newest_first=True
            )
        return found, self.cursors.encode(last, query.scope)

    async def _stuck(
        self, query: TransactionQuery, limit: int, start: Item | None
    ) -> tuple[list[Transaction], Item | None]:
        if query.status is not None:
            raise StuckExcludesStatus()
        # The first page fixes the cutoff: later pages continue the same list.
        before: str = start["cutoff"] if start else cutoff(query.older_than_minutes)
        at: Item | None = start["at"] if start else None
        if query.contract_id is not None:
            found, last = await self.listings.transactions_by_contract.page(
                query.contract_id,
                limit=limit,
                start=at,
                newest_first=False,
                before=before,
                where=Where("status", UNSETTLED),
            )
        else:
            found, last = await self.listings.transactions_by_status.merged(
                UNSETTLED, limit=limit, start=at, newest_first=False, before=before
            )
        return found, {"cutoff": before, "at": last} if last else None

    async def escrows(
        self, state: EscrowState | None, contract_id: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Escrow], str | None]:
        """A contract's escrow in item order (``state`` filters), else by state
        newest first, else all newest first."""
        scope = f"payments.escrow:state={state or ''}:contract={contract_id or ''}"
        start = self.cursors.decode(cursor, scope)
        if contract_id is not None:
            where = Where("state", (state,)) if state else None
            found, last = await self.listings.escrow_by_contract.page(
                contract_id, limit=limit, start=start, newest_first=False, where=where
            )
        elif state is not None:
            found, last = await self.listings.escrow_by_state.page(
                state, limit=limit, start=start, newest_first=True
            )
        else:
            found, last = await self.listings.escrow_by_state.merged(
                ESCROW_STATES, limit=limit, start=start, newest_first=True
            )
        return found, self.cursors.encode(last, scope)

    async def transaction(self, transaction_id: str) -> Transaction:
        """One transaction with its flag, whoever's it is."""
        found = await self.store.transaction(transaction_id)
        if found is None:
            raise TransactionNotFound()
        return found

    async def flag(self, transaction_id: str, reason: str, flagged_by: str) -> Transaction:
        """Flag a transaction for follow-up; flagged already: as it is (first flag wins)."""
        flag = Flag(reason=reason, flagged_by=flagged_by, flagged_at=now_iso())
        flagged = await self.store.flag_transaction(transaction_id, flag)
        if flagged is None:
            raise TransactionNotFound()
        if flagged.flag == flag:
            log.info("transaction.flagged", transaction_id=transaction_id, flagged_by=flagged_by)
        return flagged
