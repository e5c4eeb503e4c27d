"""The load run's report: the same Markdown on the terminal and in
``docs/reliability.md`` between ``<!-- load:begin -->`` and ``<!-- load:end -->``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mindlinks_dev.load.defences import DefenceReport
from mindlinks_dev.load.defences import lines as defence_lines
from mindlinks_dev.load.ramp import Step
from mindlinks_dev.load.stats import table

BEGIN, END = "<!-- load:begin -->", "<!-- load:end -->"


@dataclass(frozen=True)
class Context:
    when: str
    command: str
    seed: int
    cpus: int
    load_average: str
    model: str
    step_seconds: float
    p99_budget_ms: float


def replace_block(document: str, block: str) -> str:
    """``document`` with the text between the load markers replaced by ``block``."""
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(document):
        raise ValueError(f"no {BEGIN} … {END} block in the document")
    return pattern.sub(lambda _: f"{BEGIN}\n{block.strip()}\n{END}", document, count=1)


def write_block(path: Path, block: str) -> None:
    path.write_text(replace_block(path.read_text(encoding="utf-8"), block), encoding="utf-8")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def ramp_lines(steps: Sequence[Step], model: str) -> list[str]:
    unit = "offered req/s" if model == "open" else "users"
    rows = [
        f"| {unit} | served req/s | p50 ms | p99 ms | errors | machine cores | this run's "
        "cores | busiest processes (cores) | redis cmd/s | verdict |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for step in steps:
        total = step.recorder.total()
        busiest = ", ".join(f"{n} {c:.2f}" for n, c in step.cpu.busiest(3))
        verdict = "held" if step.held else "not held: " + "; ".join(step.reasons)
        rows.append(
            f"| {step.level:.0f} | {total.per_second:.1f} | {total.p50_ms:.0f} | "
            f"{total.p99_ms:.0f} | {total.errors} | {step.cpu.machine_cores:.2f} | "
            f"{step.cpu.fleet_cores:.2f} | {busiest} | "
            f"{step.redis_per_second:.0f} | {verdict} |"
        )
    return rows


def activation_lines(figures: Mapping[str, Any]) -> list[str]:
    top = ", ".join(f"{kind} x{n}" for kind, n in figures["topActivationCalls"])
    top_all = ", ".join(f"{kind} x{n}" for kind, n in figures["topLifecycleCalls"])
    idle = ", ".join(f"{kind} x{n}" for kind, n in figures["topIdleCalls"])
    probe = (
        f"{figures['probeP50']:.0f} ms p50, {figures['probeP99']:.0f} ms p99 (idle: "
        f"{figures['probeIdleP50'] or 0:.0f} ms p50)"
        if figures["probeP50"] is not None
        else "no samples"
    )
    return [
        f"- One lifecycle alone: activation {_seconds(figures['aloneSeconds'])} after the last "
        f"signature. It made {figures['callsPerLifecycle']} calls to the embedded AWS in all "
        f"(most: {top_all}); {figures['callsInActivation']} of them fell between the last "
        f"signature and `active` (most: {top}). In the 5 s before it (the fleet's own polling "
        f"and the tail of pass 2's events) it received {figures['idleCallsPerSecond']:.1f} "
        f"calls/s ({idle}).",
        f"- {figures['count']} lifecycles at once: {figures['completed']} completed in "
        f"{figures['wall']:.0f} s; activation p50 {_seconds(figures['p50'])}, p99 "
        f"{_seconds(figures['p99'])} (min {_seconds(figures['min'])}, max "
        f"{_seconds(figures['max'])}). The embedded AWS used {figures['motoCpuSeconds']:.1f} "
        f"CPU-s and all services together {figures['servicesCpuSeconds']:.1f} CPU-s "
        f"(machine: {figures['machineCores']:.2f} cores busy on average); moto answered "
        f"{figures['motoRequests']} requests ({figures['motoRequestsPerSecond']:.0f}/s). A "
        f"one-item DynamoDB read timed every 0.5 s meanwhile took {probe}.",
    ]


def render(
    context: Context,
    verdict: str,
    defence: DefenceReport | None,
    steps: Sequence[Step],
    best: Step | None,
    saturation: str,
    activation: Mapping[str, Any] | None,
    explanation: Sequence[str],
) -> str:
    out = [
        "## Load (`make load`)",
        "",
        f"Latest full run: {context.when}, `{context.command}` (seed {context.seed}), on a "
        f"{context.cpus}-core machine **shared with other engineers' fleets and test runs** "
        f"(load average at the start: {context.load_average}); absolute figures are noisy, "
        "compare them only with runs on the same machine.",
        "",
        f"**{verdict}**",
        "",
        "### Pass 1: the defences as configured",
        "",
        "A second edge with `make run`'s limits in front of the same services; clients on "
        "their own loopback addresses (the edge limits per address).",
        "",
    ]
    if defence is not None:
        out += [*defence_lines(defence), "", *table(defence.rows()), ""]
    out += [
        "### Pass 2: the defences raised (`--rate 0`), the fleet measured",
        "",
        f"The mix (open model unless stated: {context.model}), {context.step_seconds:.0f} s a "
        f"step, p99 budget {context.p99_budget_ms:.0f} ms; CPU in cores (CPU-s per s) from "
        "`/proc`, per process.",
        "",
        *ramp_lines(steps, context.model),
        "",
    ]
    if best is not None:
        total = best.recorder.total()
        out += [
            f"Highest steady rate held with zero errors: **{total.per_second:.1f} req/s** "
            f"(offered {best.level:.0f}), p50 {total.p50_ms:.0f} ms, p99 {total.p99_ms:.0f} ms.",
            "",
            f"What saturates first: {saturation}.",
            "",
            f"Per route at that step ({best.recorder.seconds:.0f} s):",
            "",
            *table([*best.recorder.by_route(), total]),
            "",
        ]
    else:
        out += ["No step was held.", ""]
    out += ["### Activation after the last signature", ""]
    if activation is not None:
        out += [*activation_lines(activation), ""]
        for paragraph in explanation:
            out += [paragraph, ""]
    return "\n".join(out)
