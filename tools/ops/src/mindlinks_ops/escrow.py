"""The escrow commands: one item's state and history (``escrow show``) and an
admin's resolution of its dispute (``escrow resolve``), through the admin
API (``GET /v1/admin/escrow/{id}``, ``POST /v1/admin/escrow/{id}/resolution``),
which authorizes and audits them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from mindlinks_ops.client import AdminApi
from mindlinks_ops.commands import FAILED, OK, partial_of, warn_partial
from mindlinks_ops.console import Console
from mindlinks_ops.tables import shorten, table


def _path(escrow_id: str) -> str:
    return f"/v1/admin/escrow/{quote(escrow_id, safe='')}"


def _money(amount: Any, currency: Any) -> str:
    """Minor units as payment keeps them: ``150000 EUR``."""
    return "-" if amount is None else f"{amount} {currency or ''}".strip()


def _by(step: Mapping[str, Any]) -> str:
    side, user = step.get("bySide"), step.get("byUserId")
    if side and user:
        return f"{side} {user}"
    return str(side or user or "-")


def _history_rows(history: Sequence[Mapping[str, Any]], currency: Any) -> list[list[str]]:
    rows = []
    for step in history:
        moved = [
            f"{label} {_money(step.get(key), currency)}"
            for key, label in (("releasedMinor", "released"), ("refundedMinor", "refunded"))
            if step.get(key) is not None
        ]
        from_state = step.get("fromState")
        rows.append(
            [
                str(step.get("at", "?")),
                str(step.get("action", "?")),
                f"{from_state} → {step.get('toState', '?')}"
                if from_state
                else str(step.get("toState", "?")),
                _by(step),
                ", ".join(moved) or "-",
                shorten(str(step.get("reason") or "-"), 50),
            ]
        )
    return rows


async def escrow_show(api: AdminApi, console: Console, *, escrow_id: str, as_json: bool) -> int:
    """Exit 1 when the ledger could not be asked (the item is still shown)."""
    body = await api.get(_path(escrow_id))
    partial = partial_of(body)
    if as_json:
        console.json(body)
        warn_partial(console, partial)
        return FAILED if partial else OK
    item: Mapping[str, Any] = body.get("escrow") or {}
    currency = item.get("currency")
    parties = item.get("parties") or {}
    console.say(f"escrow {item.get('id', escrow_id)}: {item.get('state', '?')}")
    console.say(
        f"  contract {item.get('contractId', '?')}, item {item.get('itemId', '?')}"
        + (f" ({item['title']})" if item.get("title") else "")
    )
    console.say(f"  amount {_money(item.get('amountMinor'), currency)} (minor units)")
    console.say(
        f"  client {parties.get('clientUserId', '?')} (company "
        f"{parties.get('clientCompanyId', '?')}), contractor "
        f"{parties.get('contractorUserId', '?')} ({parties.get('contractorId', '?')})"
    )
    console.say("")
    console.say(
        table(
            ["AT", "ACTION", "STATE", "BY", "MONEY", "REASON"],
            _history_rows(item.get("history") or [], currency),
        )
    )
    journal = body.get("journal")
    if isinstance(journal, list):
        console.say("")
        console.say(f"ledger: {len(journal)} entr{'y' if len(journal) == 1 else 'ies'}")
        if journal:
            console.say(
                table(
                    ["SEQ", "KIND", "RECORDED AT"],
                    [
                        [str(e.get("seq", "?")), str(e.get("kind", "?")), str(e.get("recordedAt"))]
                        for e in journal
                    ],
                )
            )
    warn_partial(console, partial)
    return FAILED if partial else OK


async def escrow_resolve(
    api: AdminApi,
    console: Console,
    *,
    escrow_id: str,
    outcome: str,
    released_minor: int | None,
    note: str,
    as_json: bool,
) -> int:
    """Payment refuses what may not be resolved (``409``: not disputed, or
    settled already); the command then exits 1 with its reason."""
    request: dict[str, Any] = {"outcome": outcome, "note": note}
    if released_minor is not None:
        request["releasedMinor"] = released_minor
    item = await api.post(f"{_path(escrow_id)}/resolution", request)
    if as_json:
        console.json(item)
        return OK
    currency = item.get("currency")
    final: Mapping[str, Any] = (item.get("history") or [{}])[-1]
    released, refunded = final.get("releasedMinor"), final.get("refundedMinor")
    console.say(f"resolved escrow {item.get('id', escrow_id)}: {item.get('state', '?')}")
    if released is not None or refunded is not None:
        console.say(f"  to the contractor: {_money(released or 0, currency)}")
        console.say(f"  back to the client: {_money(refunded or 0, currency)}")
    return OK
