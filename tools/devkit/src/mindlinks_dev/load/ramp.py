"""Pass 2: the defences raised (the runner's edge with ``--rate 0``), the
fleet itself measured with a stepped ramp.

Each step runs the mix at one level (open model: arrivals a second; closed
model: concurrent users) for a fixed time while sampling the CPU of every
process and Redis's command rate. The ramp stops at the first step that is
not held: any error or 429, a p99 over the budget, dropped arrivals, or
throughput under 90 % of the offered rate. The highest held step is the
steady rate this machine carries with zero errors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mindlinks_dev.load.driver import client, closed_model, open_model
from mindlinks_dev.load.fleet import CpuSample, Fleet
from mindlinks_dev.load.mix import Mix
from mindlinks_dev.load.stats import Recorder

SATURATED_CORES = 0.85
"""A Python process (one GIL) at this share of a core has no more to give."""


@dataclass
class Step:
    level: float
    recorder: Recorder
    cpu: CpuSample
    redis_per_second: float
    reasons: list[str] = field(default_factory=list)
    """Why the step was not held (empty: held)."""

    @property
    def held(self) -> bool:
        return not self.reasons


def judge(step: Step, model: str, p99_budget_ms: float) -> list[str]:
    total = step.recorder.total()
    reasons = []
    if total.errors:
        reasons.append(f"{total.errors} errors {total.statuses}")
    if total.limited:
        reasons.append(f"{total.limited} x 429")
    if total.p99_ms > p99_budget_ms:
        reasons.append(f"p99 {total.p99_ms:.0f} ms > {p99_budget_ms:.0f} ms")
    if step.recorder.dropped:
        reasons.append(f"{step.recorder.dropped} arrivals dropped (too many in flight)")
    if model == "open" and total.per_second < 0.9 * step.level:
        reasons.append(f"served {total.per_second:.1f} req/s of {step.level:.0f} offered")
    return reasons


async def ramp(
    mix: Mix,
    fleet: Fleet,
    levels: Sequence[float],
    *,
    model: str,
    seconds: float,
    p99_budget_ms: float,
    say: Callable[[str], None] = print,
) -> list[Step]:
    """Run the steps in order until one is not held."""
    steps: list[Step] = []
    async with client(fleet.edge) as edge:
        for level in levels:
            recorder = Recorder()
            cpu = CpuSample(fleet.processes()).start()
            commands = fleet.redis_commands()
            operation = mix.operation(edge, recorder)
            if model == "open":
                await open_model(operation, recorder, rate=level, seconds=seconds)
            else:
                await closed_model(operation, recorder, concurrency=int(level), seconds=seconds)
            cpu.stop()
            redis_rate = (fleet.redis_commands() - commands) / cpu.wall
            step = Step(level, recorder, cpu, redis_rate)
            step.reasons = judge(step, model, p99_budget_ms)
            steps.append(step)
            say(step_line(step, model))
            if not step.held:
                break
    return steps


def step_line(step: Step, model: str) -> str:
    total = step.recorder.total()
    unit = "req/s offered" if model == "open" else "users"
    busiest = ", ".join(f"{name} {cores:.2f}" for name, cores in step.cpu.busiest(3))
    verdict = "held" if step.held else "NOT held: " + "; ".join(step.reasons)
    return (
        f"{step.level:>5.0f} {unit}: {total.per_second:5.1f} req/s served, p50 "
        f"{total.p50_ms:.0f} ms, p99 {total.p99_ms:.0f} ms; cores: machine "
        f"{step.cpu.machine_cores:.2f}, {busiest}; redis {step.redis_per_second:.0f} cmd/s "
        f"— {verdict}"
    )


def saturation(steps: Sequence[Step], cpus: int) -> str:
    """Which part ran out first: the first process to reach a whole core
    (each is one Python process, or single-threaded Redis), else the machine."""
    for step in steps:
        assert step.cpu.cores is not None
        full = [(n, c) for n, c in step.cpu.cores.items() if c >= SATURATED_CORES]
        if full:
            name, cores = max(full, key=lambda kv: kv[1])
            return (
                f"{name} first reached a whole core ({cores:.2f} cores) at step {step.level:.0f}; "
                f"the machine was then at {step.cpu.machine_cores:.2f} of {cpus} cores"
            )
        if step.cpu.machine_cores >= SATURATED_CORES * cpus:
            top = ", ".join(f"{n} {c:.2f}" for n, c in step.cpu.busiest(4))
            return (
                f"the machine's {cpus} cores were busy ({step.cpu.machine_cores:.2f}, other "
                f"engineers' runs included) at step {step.level:.0f} before any one process "
                f"filled a core; the busiest: {top}"
            )
    last = steps[-1]
    top = ", ".join(f"{n} {c:.2f}" for n, c in last.cpu.busiest(4))
    return f"nothing reached a whole core; at the last step the busiest were {top}"
