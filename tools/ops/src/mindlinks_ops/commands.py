"""The API commands: each calls one admin route and prints its answer, as a
table for people or as the API's JSON (``--json``) for scripts; the exit code
says whether all is well."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mindlinks_ops.client import AdminApi
from mindlinks_ops.console import Console
from mindlinks_ops.tables import shorten, table

OK = 0
FAILED = 1
LEDGER_BROKEN = 2


# fleet ----------------------------------------------------------------------


async def fleet_status(api: AdminApi, console: Console, *, as_json: bool) -> int:
    """Exit 1 when any service is not ready or could not be asked."""
    body = await api.get("/v1/admin/fleet")
    services: list[dict[str, Any]] = body.get("services", [])
    partial = partial_of(body)
    if as_json:
        console.json(body)
    else:
        console.say(
            table(
                [
                    "SERVICE",
                    "LIVE",
                    "READY",
                    "VERSION",
                    "OPEN BREAKERS",
                    "OUTBOX",
                    "QUEUE",
                    "DEAD LETTERS",
                    "LATENCY",
                ],
                [_fleet_row(s) for s in services],
            )
        )
    # The admin lists in ``partial`` every service it could not fully ask;
    # each service's own ``details`` say why, so those are what is printed.
    troubled = [s for s in services if not s.get("ready") or s.get("details")]
    for service in troubled:
        reasons = [str(d) for d in service.get("details") or []]
        if not reasons:
            reasons = [str(service.get("error") or "not ready")]
        console.warn(f"{service.get('service', '?')}: {'; '.join(reasons)}")
    named = {s.get("service") for s in troubled}
    warn_partial(console, [p for p in partial if p.get("service") not in named])
    return FAILED if troubled or partial else OK


def _fleet_row(service: Mapping[str, Any]) -> list[str]:
    queue = service.get("queue")
    depth = dead = "-"
    if isinstance(queue, Mapping):
        depth = str(queue.get("depth", "?"))
        if queue.get("inFlight"):
            depth += f" (+{queue['inFlight']} in flight)"
        dead = str(queue.get("deadLetters", "?"))
    latency = service.get("latencyMs")
    return [
        str(service.get("service", "?")),
        _yes_no(service.get("live")),
        _yes_no(service.get("ready")),
        str(service.get("version") or "-"),
        _open_breakers(service.get("breakers")),
        _or_dash(service.get("outboxBacklog")),
        depth,
        dead,
        f"{latency:.0f} ms" if isinstance(latency, int | float) else "-",
    ]


def _open_breakers(breakers: Any) -> str:
    """Peers whose breaker is not closed: ``kyc`` (open), ``kyc (half-open)``."""
    if not isinstance(breakers, Mapping):
        return "-"
    names = [
        peer if state == "open" else f"{peer} ({state})"
        for peer, state in sorted(breakers.items())
        if state != "closed"
    ]
    return ", ".join(names) or "-"


def _yes_no(value: Any) -> str:
    if value is None:
        return "?"
    return "yes" if value else "NO"


def _or_dash(value: Any) -> str:
    return "-" if value is None else str(value)


# dead letters -----------------------------------------------------------------


async def dlq_list(
    api: AdminApi, console: Console, *, service: str | None, limit: int, as_json: bool
) -> int:
    """One service's dead letters, or (without ``service``) those of every
    service whose dead-letter queue is not empty. Exit 1 when a service could
    not be asked."""
    partial: list[Mapping[str, Any]] = []
    if service is not None:
        services = [service]
    else:
        queues = await api.get("/v1/admin/events/queues")
        partial = partial_of(queues)
        services = [str(q["service"]) for q in queues.get("items", []) if q.get("deadLetters") != 0]
    items: list[dict[str, Any]] = []
    for name in services:
        body = await api.get("/v1/admin/events/dead-letters", {"service": name, "limit": limit})
        items += [{"service": name, **item} for item in body.get("items", [])]
    if as_json:
        console.json({"items": items, "partial": partial})
    elif not items:
        console.say(f"no dead letters{f' in {service}' if service else ''}")
    else:
        console.say(
            table(
                ["SERVICE", "MESSAGE ID", "EVENT", "FAILED AT", "RECEIVES", "ERROR"],
                [
                    [
                        str(item["service"]),
                        str(item.get("messageId", "?")),
                        str(item.get("eventName") or "(not an event)"),
                        str(item.get("failedAt") or "-"),
                        _or_dash(item.get("receives")),
                        shorten(str(item.get("error") or "-"), 60),
                    ]
                    for item in items
                ],
            )
        )
    warn_partial(console, partial)
    return FAILED if partial else OK


async def dlq_replay(
    api: AdminApi,
    console: Console,
    *,
    service: str,
    message_ids: Sequence[str],
    replay_all: bool,
    reason: str | None,
    as_json: bool,
) -> int:
    """Exit 1 when a named message was not in the dead-letter queue."""
    request: dict[str, Any] = {"service": service}
    if reason is not None:
        request["reason"] = reason
    if replay_all:
        request["all"] = True
    else:
        request["messageIds"] = list(message_ids)
    body = await api.post("/v1/admin/events/dead-letters/replay", request)
    replayed = [str(m) for m in body.get("replayed", [])]
    if as_json:
        console.json(body)
    else:
        console.say(f"replayed {len(replayed)} message(s) to {service}'s queue")
        for message_id in replayed:
            console.say(f"  {message_id}")
    return _not_found(console, body)


async def dlq_discard(
    api: AdminApi,
    console: Console,
    *,
    service: str,
    message_ids: Sequence[str],
    reason: str,
    as_json: bool,
) -> int:
    """Exit 1 when a named message was not in the dead-letter queue."""
    body = await api.post(
        "/v1/admin/events/dead-letters/discard",
        {"service": service, "messageIds": list(message_ids), "reason": reason},
    )
    discarded = body.get("discarded", [])
    if as_json:
        console.json(body)
    else:
        console.say(f"discarded {len(discarded)} message(s) from {service}'s dead-letter queue")
        for item in discarded:
            described = item if isinstance(item, Mapping) else {"messageId": item}
            event = described.get("eventName") or "(not an event)"
            console.say(f"  {described.get('messageId', '?')}  {event}")
    return _not_found(console, body)


def _not_found(console: Console, body: Mapping[str, Any]) -> int:
    missing = [str(m) for m in body.get("notFound", [])]
    if missing:
        console.warn(
            f"not in the dead-letter queue (moved already, or never there): {', '.join(missing)}"
        )
        return FAILED
    return OK


# ledger -------------------------------------------------------------------------


async def ledger_verify(api: AdminApi, console: Console, *, as_json: bool) -> int:
    """Exit 0 when the journal is intact, 2 when it is broken."""
    body = await api.get("/v1/admin/ledger/verify")
    intact = bool(body.get("ok"))
    if as_json:
        console.json(body)
    elif intact:
        console.say(
            f"ledger intact: {body.get('entries', '?')} entries, tip {_tip(body.get('tip'))}"
        )
    else:
        console.say(
            f"ledger BROKEN at seq {body.get('firstBrokenSeq', '?')}: "
            f"{body.get('problem') or 'the hash chain does not hold'}"
        )
    return OK if intact else LEDGER_BROKEN


def _tip(tip: Any) -> str:
    if isinstance(tip, Mapping):
        seq, digest = tip.get("seq"), tip.get("hash")
        return f"seq {seq} ({digest})" if digest else f"seq {seq}"
    return "none" if tip is None else str(tip)


# companies ----------------------------------------------------------------------


async def backfill_members(
    api: AdminApi, console: Console, *, page_size: int, as_json: bool
) -> int:
    """Every page of companies, until the last: each company without its
    owner member gets one (conditional writes, so running it again, or two
    runs at once, add nothing twice)."""
    scanned = added = pages = 0
    cursor: str | None = None
    while True:
        request: dict[str, Any] = {"limit": page_size}
        if cursor is not None:
            request["cursor"] = cursor
        body = await api.post("/v1/admin/company-members/backfill", request)
        pages += 1
        scanned += int(body.get("scanned", 0))
        added += int(body.get("added", 0))
        cursor = body.get("nextCursor")
        if cursor is None:
            break
    if as_json:
        console.json({"pages": pages, "scanned": scanned, "added": added})
    else:
        console.say(f"companies read: {scanned}; owner members added: {added}")
    return OK


# shared -------------------------------------------------------------------------


def partial_of(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [p for p in body.get("partial") or [] if isinstance(p, Mapping)]


def warn_partial(console: Console, partial: Sequence[Mapping[str, Any]]) -> None:
    for missing in partial:
        console.warn(
            f"incomplete: {missing.get('service', '?')}: {missing.get('detail', 'no answer')}"
        )
