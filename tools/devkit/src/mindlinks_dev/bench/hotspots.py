"""Which DynamoDB keys go hot, from the fleet declaration's tables and
indexes and a lifecycle's counted calls: index keys with few distinct values
(every write lands in one partition), scans on a lifecycle's path (they read
the whole table), and the ledger's one tip (appends are serial).

A transaction is counted at its first item's table, so an outbox's writes
(inside the state's transaction) are taken from the events the lifecycle put
instead: each is written to its producer's outbox and leaves its pending
index when sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mindlinks_dev.bench.prices import PRICES
from mindlinks_kit.declaration import OUTBOX, Fleet

PARTITION_WRITES = 1000.0
"""Write units a second one DynamoDB partition takes (base table or GSI)."""
FEW_VALUES = {
    "status": "a handful of statuses",
    "state": "a handful of states",
    "kycStatus": "a handful of KYC statuses",
    "role": "three roles",
    "day": "one value a day",
    "pendingShard": "one value: every unsent event",
}
"""Key names that hold few distinct values (by what the fleet stores in them)."""
FIXES = {
    "a status, state or role": "shard the key (`value#0..N-1` from a hash of the id) and "
    "query the shards in parallel, or set the attribute only while an item needs an operator "
    "(a sparse index), so settled items leave the partition",
    "`day`": "shard the day (`day#0..N-1` from a hash of the id); a reader queries N shards a day",
    "`pendingShard`": "it is sparse (an item leaves when sent), so it holds only the unsent; "
    "past the limit, give it N values (`pending#0..N-1`) and sweep each",
}
ITEM_KB = 1.0
"""The item size a scan's read units are estimated with (as the prices assume)."""
SERIAL = {
    "ledger-journal": (
        "every append is one transaction conditioned on the journal's single tip "
        "(`ledger-heads`): appends are serial fleet-wide, an estimated ≈ 50 a second at "
        "≈ 20 ms per conditional transaction in-region",
        50.0,
        "batch appends (one tip update per batch of events), or chain per subject with a "
        "periodic fleet-wide anchor, so the tip is taken once per batch",
    )
}
"""Items every lifecycle takes in turn: table → (why, appends a second, fix)."""
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


@dataclass(frozen=True)
class Load:
    table: str
    writes: float
    """Write calls per lifecycle on the table (a transaction's first table)."""

    def per_second(self, volume: float, peak: float, seconds_per_month: float) -> float:
        return self.writes * volume / seconds_per_month * peak


def writes_by_table(calls: Mapping[str, float]) -> dict[str, float]:
    found: dict[str, float] = {}
    for kind, n in calls.items():
        name, _, resource = kind.partition(" ")
        if name.startswith("dynamodb:") and name.split(":", 1)[1] in WRITES:
            for table in resource.split("+"):
                found[table] = found.get(table, 0.0) + n
    return found


def outbox_writes(calls: Mapping[str, float], fleet: Fleet) -> dict[str, float]:
    """Writes to each producer's outbox per lifecycle: two an event (written
    pending, then marked sent), from the detail types ``PutEvents`` carried."""
    found: dict[str, float] = {}
    known = {e.name for e in fleet.events}
    for kind, n in calls.items():
        name, _, resource = kind.partition(" ")
        if name == "events:PutEvents":
            for event in resource.split("+"):
                if event in known:
                    table = f"{fleet.event(event).producer}-{OUTBOX.name}"
                    found[table] = found.get(table, 0.0) + 2 * n
    return found


def scans(calls: Mapping[str, float]) -> dict[str, float]:
    return {
        kind.partition(" ")[2]: n for kind, n in calls.items() if kind.startswith("dynamodb:Scan ")
    }


def few_valued(fleet: Fleet) -> list[tuple[str, str, str]]:
    """(table, index, key) of every index whose partition key holds few values."""
    return [
        (f"{s.name}-{t.name}", i.name, i.pk.name)
        for s in fleet.services
        for t in fleet.tables(s.name)
        for i in t.indexes
        if i.pk.name in FEW_VALUES
    ]


def section(
    f: Mapping[str, Any],
    fleet: Fleet,
    volumes: Sequence[int],
    peak: float,
    seconds_per_month: float,
) -> list[str]:
    calls = f["fleet"]["alone"]["calls"]
    writes = writes_by_table(calls) | outbox_writes(calls, fleet)
    top = max(volumes)
    out = [
        "## Hot keys and indexes",
        "",
        f"Writes a second at the peak of {top:,} lifecycles a month, against the "
        f"{PARTITION_WRITES:,.0f} write units a second one partition takes (a GSI's too: when "
        "its partition throttles, writes to the table throttle). Keys with few values put "
        "every write in one partition, whatever the table's size.",
        "",
        "| table | index | key (its values) | writes to the table per lifecycle | "
        "writes/s at peak | of one partition |",
        "|---|---|---|---:|---:|---:|",
    ]
    shares: dict[str, float] = {}
    for table, index, key in few_valued(fleet):
        load = Load(table, writes.get(table, 0.0))
        rate = load.per_second(top, peak, seconds_per_month)
        shares[f"{table} {index}"] = rate / PARTITION_WRITES
        out.append(
            f"| {table} | {index} | `{key}` ({FEW_VALUES[key]}) | {load.writes:g} | "
            f"{rate:.1f} | {rate / PARTITION_WRITES:.1%} |"
        )
    out += [
        "",
        "A table's writes bound its index's (a write that leaves the key alone writes no "
        f"index). {_verdict(shares)} What grows regardless is the partition itself — every "
        "item ever in that value, unless the index is sparse — and reading it is a list for "
        "operators, a page at a time. The fixes, when a partition nears its limit:",
        "",
        *[f"- {keys}: {fix}." for keys, fix in FIXES.items()],
        "",
        *_scans(calls, writes, volumes),
        *_serial(writes, top, peak, seconds_per_month),
    ]
    return out


def _verdict(shares: Mapping[str, float], near: float = 0.5) -> str:
    """Which index partitions come near their write limit at the top volume."""
    hot = sorted((n for n, share in shares.items() if share >= near), key=shares.__getitem__)
    if not shares:
        return "No index key holds few values."
    if not hot:
        busiest = max(shares, key=shares.__getitem__)
        return (
            "None of these partitions comes near its write limit at the top volume (the "
            f"busiest, {busiest}, at {shares[busiest]:.0%})."
        )
    return (
        f"At the top volume {', '.join(hot)} reach {near:.0%} or more of one partition's "
        "writes: they need the fix below first."
    )


def _scans(
    calls: Mapping[str, float], writes: Mapping[str, float], volumes: Sequence[int]
) -> list[str]:
    found = scans(calls)
    out = ["### Scans", ""]
    if not found:
        return [*out, "No lifecycle step scans a table.", ""]
    growing = {t: n for t, n in found.items() if writes.get(t, 0) > 0}
    for table, n in sorted(growing.items()):
        per_year = writes[table] * 12
        grown = "; ".join(
            f"at {v:,} a month {per_year * v:,.0f} items, "
            f"${per_year * v * ITEM_KB / 4 * PRICES['dynamodb read'].each:,.2f} a scan"
            for v in volumes
        )
        out.append(
            f"- `{table}`: {n:g} scan calls per lifecycle, on a table that grows by up to "
            f"{writes[table]:g} items a lifecycle. A scan reads all of it, so each lifecycle "
            f"costs more than the one before (after a year, {grown}, at {ITEM_KB:g} KB an "
            "item). **Fix: read what the step needs by key or index** (a range of sequence "
            "numbers, the subject's GSI) or keep a running aggregate; required long before "
            f"{volumes[1]:,} lifecycles a month."
        )
    steady = sorted(set(found) - set(growing))
    if steady:
        out.append(
            f"- {', '.join(f'`{t}`' for t in steady)}: "
            f"{sum(found[t] for t in steady):g} scan calls per lifecycle in all, on tables a "
            "lifecycle does not grow (revoked tokens: few items, expiring). Each task reloads "
            "its copy when it is older than 2 s and a token is checked, so at scale these "
            "cost tasks / 2 small scans a second per service: cheap while the table stays "
            "small; a change feed (DynamoDB Streams) would replace the reloads if it grows."
        )
    return [
        *out,
        "",
        "Operators' unfiltered lists (users, companies, contracts, contractors) page through "
        "scans too: one page at a time stays cheap, but reading a whole table after a year "
        "at the top volume costs its size in read units (README, known limits).",
        "",
    ]


def serial_ceilings(
    calls: Mapping[str, float], peak: float, seconds_per_month: float
) -> dict[str, float]:
    """Lifecycles a month at which each serial point's peak reaches its limit."""
    writes = writes_by_table(calls)
    return {
        table: limit / (writes[table] * peak) * seconds_per_month
        for table, (_, limit, _) in SERIAL.items()
        if writes.get(table, 0) > 0
    }


def _serial(
    writes: Mapping[str, float], volume: int, peak: float, seconds_per_month: float
) -> list[str]:
    out = ["### Serial points", ""]
    for table, (why, limit, fix) in SERIAL.items():
        if not writes.get(table):
            out.append(f"- `{table}`: no append in a lifecycle. ({why}.)")
            continue
        rate = Load(table, writes[table]).per_second(volume, peak, seconds_per_month)
        ceiling = limit / (writes[table] * peak) * seconds_per_month
        out.append(
            f"- `{table}`: {why}. A lifecycle appends {writes.get(table, 0):g} times: "
            f"{rate:.1f} appends a second at the peak of {volume:,} a month "
            f"({rate / limit:.0%} of the chain); it saturates near {ceiling:,.0f} lifecycles "
            f"a month. Fix: {fix}."
        )
    return [*out, ""]
