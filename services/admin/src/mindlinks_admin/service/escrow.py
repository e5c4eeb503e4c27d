"""Escrowed items and their disputes: one item with its history from payment
and its journal entries from the ledger; an admin's resolution of a disputed
item (release, refund or split), audited on ``escrow:<id>``.

Payment decides whether the item may be resolved (only a disputed one, and
only one settlement of it ever: ``409`` otherwise) and moves the money; the
admin checks the amounts it can, records the request before calling, and
its outcome after.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from mindlinks_admin.clients import Ledger, Payments
from mindlinks_admin.domain import Actor, EscrowNotFound, EscrowView, InvalidSplit, split_fault
from mindlinks_admin.peers import (
    Gathered,
    Missing,
    PeerAnswer,
    Record,
    one_source,
    settle,
    state_before,
)
from mindlinks_admin.service.audit import Audit

T = TypeVar("T")


def _not_found(escrow_id: str) -> EscrowNotFound:
    return EscrowNotFound(f"No escrowed item {escrow_id}", service="payment")


async def _known(escrow_id: str, call: Awaitable[T]) -> T:
    """``call``'s answer; payment's 404, whatever its code, as ``escrow-not-found``."""
    try:
        return await call
    except PeerAnswer as exc:
        if exc.answer_status == 404:
            raise _not_found(escrow_id) from None
        raise


class EscrowDesk:
    def __init__(self, *, payments: Payments, ledger: Ledger, audit: Audit, deadline: float):
        self.payments = payments
        self.ledger = ledger
        self.audit = audit
        self.deadline = deadline

    async def item(self, actor: Actor, escrow_id: str) -> EscrowView:
        """Payment's item (its only source) and the ledger's entries, at once.
        Audited as ``viewed``."""
        d = self.deadline
        found, journal = await asyncio.gather(
            settle("payment", self.payments.escrow_item(escrow_id), d),
            settle("ledger", self.ledger.history(escrow_id), d),
        )
        if isinstance(found, Missing):
            if found.problem is not None and found.problem.answer_status == 404:
                raise _not_found(escrow_id)
            raise one_source(found)
        got = Gathered()
        entries = got.take(journal)
        await self.audit.viewed(actor, "escrow.view", f"escrow:{escrow_id}")
        return EscrowView(
            escrow=found,
            journal=entries[0] if entries is not None else None,
            partial=got.partial,
        )

    async def resolve(
        self,
        actor: Actor,
        escrow_id: str,
        outcome: str,
        released_minor: int | None,
        note: str,
    ) -> Record:
        """Resolve a disputed item. ``before``: the item as payment holds it
        (an unknown one is a 404, nothing recorded); ``after``: the item as
        payment answers it, settled."""
        fault = split_fault(outcome, released_minor, None)
        if fault:
            raise InvalidSplit(fault)
        before = await _known(
            escrow_id,
            state_before("payment", self.payments.escrow_item(escrow_id), self.deadline),
        )
        fault = split_fault(outcome, released_minor, before.get("amountMinor"))
        if fault:
            raise InvalidSplit(fault)
        return await self.audit.change(
            actor,
            "escrow.resolve",
            f"escrow:{escrow_id}",
            reason=note,
            before=before,
            apply=lambda: _known(
                escrow_id,
                self.payments.resolve(escrow_id, outcome, released_minor, note, actor.user_id),
            ),
        )
