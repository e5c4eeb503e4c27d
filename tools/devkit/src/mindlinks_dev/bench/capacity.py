"""Past one machine, on paper: ``docs/capacity.md`` from a bench run's
figures (``docs/bench.json``) and the fleet declaration.

``python -m mindlinks_dev.bench.capacity`` regenerates it without measuring
(``make bench`` does it after every run). The model, stated in the document:
each service's CPU per lifecycle and idle CPU as measured on the bench's
machine (one of its cores taken for one Fargate vCPU), traffic at its peak
``PEAK`` times the month's average rate, tasks scaled out at the Terraform
target (70 % of a task's vCPU), between the declared minimum and maximum
tasks; AWS requests priced per call by kind (``prices``). Hot keys come from
the declaration's tables and indexes (``hotspots``).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mindlinks_dev.bench import hotspots
from mindlinks_dev.bench.prices import (
    ASSUMPTIONS,
    PRICES,
    PRICES_AS_OF,
    REGION,
    Billed,
    bill,
    by_price,
    gsi_counts,
    task_month_usd,
)
from mindlinks_dev.openapi import repo_root
from mindlinks_kit.declaration import Fleet, Service

VOLUMES = (1_000, 100_000, 10_000_000)
"""Lifecycles a month the plan is made for."""
HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
PEAK = 4.0
"""Peak over the month's average rate: B2B traffic in working hours
(≈ 40 of 168 hours a week carry it)."""
SCALE_OUT = 0.70
"""The Terraform target: tasks are added past 70 % of their vCPU."""
Figures = Mapping[str, Any]
LOCAL_ONLY = {
    "aws (moto)": " (the local AWS emulator: a managed service in AWS, priced per request)",
    "edge": " (API Gateway in AWS, priced per request)",
    "load driver": " (the bench's own clients)",
    "redis": " (ElastiCache in AWS, a fixed cost)",
}


@dataclass(frozen=True)
class Demand:
    """One service's CPU: per lifecycle and idle, in seconds and cores."""

    service: Service
    cpu_per_lifecycle: float
    idle_cores: float

    @property
    def vcpu(self) -> float:
        return self.service.sizing.cpu / 1024

    def cores(self, lifecycles_per_second: float) -> float:
        return self.idle_cores + lifecycles_per_second * self.cpu_per_lifecycle

    def tasks(self, lifecycles_per_second: float) -> int:
        """Tasks that keep every one under the scale-out target, at least the minimum."""
        needed = math.ceil(self.cores(lifecycles_per_second) / (self.vcpu * SCALE_OUT) - 1e-9)
        return max(self.service.sizing.min_tasks, needed)

    def ceiling(self) -> float:
        """Lifecycles a month at which the peak needs more than the maximum tasks."""
        room = self.service.sizing.max_tasks * self.vcpu * SCALE_OUT - self.idle_cores
        if self.cpu_per_lifecycle <= 0:
            return math.inf
        return max(room, 0.0) / (PEAK * self.cpu_per_lifecycle) * SECONDS_PER_MONTH


def demands(f: Figures, fleet: Fleet) -> list[Demand]:
    per_lifecycle = f["fleet"]["together"]["cpuPerLifecycle"]
    idle = f["fleet"]["idleCores"]
    return [
        Demand(s, float(per_lifecycle.get(s.name, 0.0)), float(idle.get(s.name, 0.0)))
        for s in fleet.services
    ]


def per_second(volume: float) -> float:
    return volume / SECONDS_PER_MONTH


@dataclass(frozen=True)
class Month:
    volume: int
    peak_tasks: dict[str, int]
    average_tasks: dict[str, int]
    over: list[str]
    """Services whose peak needs more tasks than their declared maximum."""
    fargate_usd: float
    requests_usd: float

    @property
    def total_usd(self) -> float:
        return self.fargate_usd + self.requests_usd

    @property
    def per_thousand_usd(self) -> float:
        return self.total_usd / (self.volume / 1000)


def month(volume: int, needs: list[Demand], per_lifecycle_usd: float) -> Month:
    """The fleet at ``volume`` lifecycles a month: tasks at the peak (capacity)
    and at the average rate (what runs most of the month, and is paid)."""
    average = per_second(volume)
    peak = {d.service.name: d.tasks(average * PEAK) for d in needs}
    paid = {d.service.name: d.tasks(average) for d in needs}
    fargate = sum(
        paid[d.service.name]
        * task_month_usd(d.service.sizing.cpu, d.service.sizing.memory, HOURS_PER_MONTH)
        for d in needs
    )
    over = [d.service.name for d in needs if peak[d.service.name] > d.service.sizing.max_tasks]
    return Month(volume, peak, paid, over, fargate, volume * per_lifecycle_usd)


def lifecycle_bill(f: Figures, fleet: Fleet) -> list[Billed]:
    """One lifecycle's AWS requests and public requests (API Gateway), priced."""
    alone = f["fleet"]["alone"]
    lines = bill(alone["calls"], gsi_counts(fleet))
    requests = float(alone["requests"])
    return [*lines, Billed("public requests (API Gateway)", requests, "api gateway", requests)]


def document(f: Figures, fleet: Fleet) -> str:
    needs = demands(f, fleet)
    lines = lifecycle_bill(f, fleet)
    per_lifecycle = sum(b.usd for b in lines)
    months = [month(v, needs, per_lifecycle) for v in VOLUMES]
    first = sorted(needs, key=lambda d: d.ceiling())
    serial = hotspots.serial_ceilings(f["fleet"]["alone"]["calls"], PEAK, SECONDS_PER_MONTH)
    out = [
        "# Capacity, on paper",
        "",
        "Generated by `python -m mindlinks_dev.bench.capacity` from the figures of "
        f"`{f['command']}` ({f['when']}, commit {f['commit']}; [performance.md](performance.md), "
        "[bench.json](bench.json)) and the fleet declaration (`libs/fleet`). Do not edit: "
        "`make bench` rewrites it. It is arithmetic on one small machine's measurements, "
        "not a load test of AWS: read it for orders of magnitude and for what breaks first.",
        "",
        *_model(f),
        *_route_costs(f),
        *_bill(lines, per_lifecycle),
        *_months(months, needs),
        *_saturation(first, serial),
        *hotspots.section(f, fleet, VOLUMES, PEAK, SECONDS_PER_MONTH),
    ]
    return "\n".join(out) + "\n"


def _model(f: Figures) -> list[str]:
    many = f["fleet"]["together"]
    prices = ", ".join(
        f"{name} ${p.usd:g} per {'' if p.per == 1 else f'{p.per:,.0f} '}{p.unit}"
        for name, p in PRICES.items()
    )
    return [
        "## The model",
        "",
        f"- CPU: each service's CPU seconds per lifecycle, measured with {many['count']} "
        "lifecycles at once through the local fleet (the demo's story: sign-up, company, "
        "onboarding with KYC, contract, signatures, activation, funding, release — its status "
        "polling included), and its idle CPU; one core of the bench machine taken for one "
        "Fargate vCPU.",
        f"- Traffic: the month's lifecycles spread evenly, with a peak of {PEAK:g} times the "
        f"average rate; a month is {HOURS_PER_MONTH} hours.",
        f"- Tasks: as many as keep each under {SCALE_OUT:.0%} of its vCPU (the Terraform "
        "scale-out target), never fewer than the declared minimum; the peak's count is the "
        "capacity, the average rate's count is what runs (and is paid) most of the month.",
        f"- Prices: {REGION} public list prices as of {PRICES_AS_OF}, on-demand, no free tier "
        f"(`mindlinks_dev/bench/prices.py`): {prices}.",
        f"- Requests: one lifecycle's AWS calls as the embedded AWS counted them, priced with "
        f"these assumptions: {ASSUMPTIONS}. Not counted: data transfer, NAT, the load "
        "balancer, Redis, logs, storage and backups (fixed or per GB: README, cost drivers).",
        "",
    ]


def _route_costs(f: Figures) -> list[str]:
    c, edge = f["costs"], f["fleet"]["edge"]
    per_lifecycle = f["fleet"]["together"]["cpuPerLifecycle"]
    routes = [
        ("a bare FastAPI route (floor)", c["bare"]),
        ("`GET /health/live` (the kit's middleware)", c["health"]),
        ("`GET /v1/users/me`, in-process", c["users_me"]),
        ("`GET /v1/users/me`, the user process over HTTP", edge["user"]),
        ("the edge, per proxied request", edge["proxied"]),
        ("`POST /v1/auth/login`", c["login"]),
        ("an internal call (`Peers.call`), both sides", c["internal"]),
    ]
    out = [
        "## CPU per request and per lifecycle",
        "",
        "| route | CPU-ms per request |",
        "|---|---:|",
        *[f"| {name} | {ms:.2f} |" for name, ms in routes],
        "",
        "| process | CPU-s per lifecycle |",
        "|---|---:|",
    ]
    ranked = sorted(per_lifecycle.items(), key=lambda kv: -kv[1])
    out += [f"| {name}{LOCAL_ONLY.get(name, '')} | {seconds:.3f} |" for name, seconds in ranked]
    return [*out, ""]


def _bill(lines: list[Billed], per_lifecycle: float) -> list[str]:
    out = [
        "## AWS requests per lifecycle",
        "",
        f"One lifecycle costs **${per_lifecycle:.5f}** in requests "
        f"(${per_lifecycle * 1000:.3f} per 1,000):",
        "",
        "| price | units per lifecycle | USD per 1,000 lifecycles |",
        "|---|---:|---:|",
    ]
    for price, (units, usd) in sorted(by_price(lines).items(), key=lambda kv: -kv[1][1]):
        out.append(f"| {PRICES[price].unit} | {units:.0f} | {usd * 1000:.4f} |")
    out += ["", "The costliest kinds of call:", ""]
    out += [
        f"- {b.kind}: {b.calls:.0f} calls, {b.units:.0f} units, ${b.usd * 1000:.4f} per 1,000"
        for b in lines[:10]
    ]
    if any(b.kind.startswith("dynamodb:Scan ") for b in lines):
        out += [
            "",
            "A scan is priced here at one unit, as on the bench's near-empty tables; what it "
            "costs as its table grows is under Scans below.",
        ]
    unpriced = sorted({b.kind for b in lines if not b.price})
    if unpriced:
        out += ["", f"Not billed per request (control plane): {', '.join(unpriced)}."]
    return [*out, ""]


def _months(months: list[Month], needs: list[Demand]) -> list[str]:
    head = " | ".join(f"{m.volume:,} a month" for m in months)
    out = [
        "## Tasks and cost by volume",
        "",
        f"| service (task size) | {head} |",
        "|---|" + "---:|" * len(months),
    ]
    for d in needs:
        name, size = d.service.name, d.service.sizing
        cells = " | ".join(
            f"{m.average_tasks[name]} (peak {m.peak_tasks[name]}"
            + (f", over max {size.max_tasks}" if name in m.over else "")
            + ")"
            for m in months
        )
        out.append(f"| {name} ({size.cpu / 1024:g} vCPU, {size.memory} MiB) | {cells} |")
    rows = [
        ("Fargate a month", [m.fargate_usd for m in months]),
        ("AWS requests a month", [m.requests_usd for m in months]),
        ("total a month", [m.total_usd for m in months]),
        ("**per 1,000 lifecycles**", [m.per_thousand_usd for m in months]),
    ]
    for label, values in rows:
        out.append(f"| {label} | " + " | ".join(f"${v:,.2f}" for v in values) + " |")
    out += [
        "",
        "At low volume the declared minimum tasks are the whole bill (they idle); the cost per "
        "lifecycle falls until the requests and the CPU each lifecycle needs dominate.",
        "",
    ]
    return out


def _saturation(ranked: list[Demand], serial: Mapping[str, float]) -> list[str]:
    out = [
        "## What saturates first",
        "",
        "Lifecycles a month at which a service's peak needs more than its declared maximum "
        "tasks (then it queues, and its p99 grows):",
        "",
    ]
    for d in ranked:
        ceiling = d.ceiling()
        text = "never (no CPU per lifecycle measured)" if math.isinf(ceiling) else f"{ceiling:,.0f}"
        out.append(
            f"- {d.service.name}: {text} ({d.cpu_per_lifecycle:.3f} CPU-s per lifecycle, "
            f"{d.service.sizing.max_tasks} tasks of {d.vcpu:g} vCPU)"
        )
    for table, ceiling in serial.items():
        out.append(f"- `{table}`'s chain (not CPU, see Serial points): {ceiling:,.0f}")
    if ranked and not math.isinf(ranked[0].ceiling()):
        cpu_first = ranked[0].service.name
        out += [
            "",
            f"**{cpu_first} saturates first** of the services: raise its `max_tasks` (or its "
            "task size) in the declaration, or cut its CPU per lifecycle.",
        ]
        chain = min(serial.items(), key=lambda kv: kv[1], default=None)
        if chain and chain[1] < ranked[0].ceiling():
            out.append(f"Before it, `{chain[0]}`'s serial chain does, which no task count lifts.")
    return [*out, ""]


def main(argv: list[str] | None = None) -> int:
    """Regenerate ``docs/capacity.md`` from ``docs/bench.json``."""
    from mindlinks_fleet import FLEET

    root = repo_root(Path.cwd())
    docs = Path((argv or sys.argv[1:] or [str(root / "docs")])[0])
    figures = json.loads((docs / "bench.json").read_text())
    (docs / "capacity.md").write_text(document(figures, FLEET))
    print(f"wrote {docs / 'capacity.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
