"""The fleet measured from outside, as ``make run`` starts it: real processes
on loopback (the load tool's fleet, at a port offset of its own), driven
through the edge with the demo's story.

First ``make run``'s default, one fleet host (``host_start``): its start to
every part ready and its idle memory. Then one process per service
(``--processes``, as deployed, so CPU and memory are read per service), in
this order: its start (runner to every part ready); a settle
while the relays back off to their idle pace (the caller's other work runs
meanwhile); the idle fleet (its AWS calls, its CPU, every part's memory);
lifecycles alone, one after another (their AWS calls, public requests and
activation: the median of a few, as one is noisy); the edge's own CPU per
proxied request; then several lifecycles at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import httpx

from mindlinks_dev.bench.processes import resident
from mindlinks_dev.demo import Person
from mindlinks_dev.load import activation
from mindlinks_dev.load.activation import Alone, Idle, Together
from mindlinks_dev.load.fleet import CpuSample, Fleet, cpu_seconds, fleet_with_retries

T = TypeVar("T")
INFRASTRUCTURE = ("aws (moto)", "redis", "load driver")
"""Processes of a local run that are not the fleet's own (AWS, Redis, us)."""
AWS = INFRASTRUCTURE[0]


@dataclass(frozen=True)
class HostStart:
    """``make run``'s default: every service and the edge in one fleet host."""

    ready_seconds: float
    """From starting the runner to every part answering ready."""
    rss: float
    """The host's resident MiB once idle (every service and the edge)."""
    aws_rss: float
    cpu_to_ready: Mapping[str, float]
    """CPU-seconds the host and the embedded AWS had used when all were ready."""


@dataclass(frozen=True)
class EdgeCost:
    """CPU milliseconds per request, from ``/proc`` over many requests: the
    edge's for a proxied ``GET /v1/users/me`` (``proxied``) and for its own
    ``GET /health/live`` (``own``, no upstream), and the user service's for
    the same ``GET /v1/users/me`` over real HTTP (``user``)."""

    proxied: float
    own: float
    user: float


@dataclass(frozen=True)
class FleetRun(Generic[T]):
    ready_seconds: float
    services: tuple[str, ...]
    rss: Mapping[str, float]
    """Resident MiB of every part once idle: services, the edge, the AWS emulator."""
    idle: Idle
    idle_cores: Mapping[str, float]
    """Cores each part used while idle."""
    alone: tuple[Alone, ...]
    edge: EdgeCost
    many: Together
    meanwhile: T
    """What the caller's work during the settle returned."""


@dataclass(frozen=True)
class Plan:
    """A run: the fleet at ``port_offset``; ``settle`` seconds from ready to
    idle (the relays back off to their idle pace), ``idle_seconds`` idle;
    ``alone`` lifecycles one after another, then ``lifecycles`` at once."""

    port_offset: int
    settle: float
    idle_seconds: float
    lifecycles: int
    alone: int = 3


def cpu_per_request(
    api: httpx.Client, path: str, headers: Mapping[str, str], pid: int, n: int
) -> float:
    """CPU ms of ``pid`` per ``GET path`` (from ``/proc``, after 20 to warm up)."""
    for _ in range(20):
        api.get(path, headers=headers).raise_for_status()
    before = cpu_seconds(pid)
    for _ in range(n):
        api.get(path, headers=headers).raise_for_status()
    return (cpu_seconds(pid) - before) * 1000 / n


def edge_cost(fleet: Fleet, person: Person, n: int = 400) -> EdgeCost:
    pids = {name: int(part["pid"]) for name, part in fleet.state["parts"].items()}
    with httpx.Client(base_url=fleet.edge, timeout=30) as api:
        before = cpu_seconds(pids["user"])
        proxied = cpu_per_request(api, "/v1/users/me", person.auth, pids["edge"], n)
        user = (cpu_seconds(pids["user"]) - before) * 1000 / (n + 20)
        own = cpu_per_request(api, "/health/live", {}, pids["edge"], n)
    return EdgeCost(proxied, own, user)


def host_start(
    run_dir: Path, port_offset: int, settle: float, say: Callable[[str], None]
) -> HostStart:
    """Start the fleet as ``make run`` does by default, time it to every part
    ready, read its memory ``settle`` seconds later, stop it."""
    edge_port = port_offset + 8080
    with fleet_with_retries(run_dir, port_offset, edge_port, say, processes=False) as fleet:
        pids = fleet.processes()
        hosts = {int(part["pid"]) for part in fleet.state["parts"].values()}
        if len(hosts) != 1:
            raise AssertionError(f"expected one fleet host, found processes {sorted(hosts)}")
        pids["host"] = hosts.pop()
        cpu = {name: cpu_seconds(pids[name]) for name in ("host", AWS) if name in pids}
        say(f"the fleet host is ready in {fleet.ready_seconds:.1f} s; settling {settle:.0f} s …")
        time.sleep(settle)
        rss = resident({name: pids[name] for name in ("host", AWS) if name in pids})
    return HostStart(fleet.ready_seconds, rss["host"], rss.get(AWS, 0.0), cpu)


def measure(
    run_dir: Path, plan: Plan, meanwhile: Callable[[], T], say: Callable[[str], None]
) -> FleetRun[T]:
    """Start the fleet, measure it in the order above, stop it."""
    edge_port = plan.port_offset + 8080
    with fleet_with_retries(run_dir, plan.port_offset, edge_port, say) as fleet:
        say(f"fleet ready in {fleet.ready_seconds:.1f} s; meanwhile …")
        settled_at = time.monotonic() + plan.settle
        done = meanwhile()
        say(f"settling, then {plan.idle_seconds:.0f} s idle …")
        time.sleep(max(0.0, settled_at - time.monotonic()))
        pids = fleet.processes()
        cpu = CpuSample(pids).start()
        quiet = activation.idle(fleet, plan.idle_seconds)
        cpu.stop()
        rss = resident({k: v for k, v in pids.items() if k not in INFRASTRUCTURE[1:]})
        say(f"{plan.alone} lifecycles alone, one after another …")
        alone = tuple(activation.lifecycle_alone(fleet, quiet) for _ in range(plan.alone))
        assert alone[0].client is not None
        edge = edge_cost(fleet, alone[0].client)
        say(f"{plan.lifecycles} lifecycles at once …")
        many = activation.together(fleet, plan.lifecycles, say)
        services = tuple(n for n in fleet.state["parts"] if n != "edge")
    return FleetRun(
        ready_seconds=fleet.ready_seconds,
        services=services,
        rss=rss,
        idle=quiet,
        idle_cores=dict(cpu.cores or {}),
        alone=alone,
        edge=edge,
        many=many,
        meanwhile=done,
    )


def median_by(runs: Sequence[Alone], key: Callable[[Alone], float]) -> Alone:
    """The run in the middle by ``key`` (the lower middle of an even count)."""
    return sorted(runs, key=key)[(len(runs) - 1) // 2]


def cpu_per_lifecycle(many: Together) -> dict[str, float]:
    """CPU seconds each part spent per completed lifecycle, while they ran."""
    if not many.activations or many.cpu.cores is None:
        return {}
    completed = len(many.activations)
    return {name: cores * many.cpu.wall / completed for name, cores in many.cpu.cores.items()}
