"""Activation after the last signature, measured from outside.

A lifecycle is the demo's whole story (``Story.run``: company, invitation,
onboarding with KYC, contract, both signatures, activation, payment intents,
funding, release). The time from the last signature's answer to the
contract read back ``active`` is measured for one lifecycle alone and for
several at once. What bounds it is measured at the embedded AWS: every call
the fleet makes there is counted per operation and resource (its call
counter, ``mindlinks_dev.motoserver``), the emulator's CPU is sampled
against the services', and a probe times one cheap DynamoDB read every half
second while the lifecycles run (how long any call waits at the emulator).
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx

from mindlinks_dev.bootstrap import LOCAL_CREDENTIALS
from mindlinks_dev.demo import Person, Story
from mindlinks_dev.load.fleet import CpuSample, Fleet
from mindlinks_dev.load.ramp import SATURATED_CORES
from mindlinks_dev.load.stats import percentile
from mindlinks_dev.motoserver import COUNTS_PATH

TRACE = os.environ.get("MOTO_CALL_TRACE")
"""Where the embedded AWS logs every call, if anywhere: the driver's requests go there too."""
PREFIX = "mindlinks-local-"
PROBE_TABLE = "contract-templates"
PROBE_CALL = f"dynamodb:GetItem {PROBE_TABLE}"
"""What one probe read is counted as (taken out of the fleet's own calls)."""


def calls(fleet: Fleet) -> Counter[str]:
    """Every AWS call the embedded AWS has answered so far, by kind:
    ``service:Action resource`` (``dynamodb:Query contract-outbox``)."""
    response = httpx.get(
        f"{fleet.state['aws']['endpoint']}{COUNTS_PATH}", params={"by": "resource"}, timeout=10
    )
    response.raise_for_status()
    return Counter({kind.replace(PREFIX, ""): int(n) for kind, n in response.json().items()})


def without_probe(counted: Counter[str], probes: int) -> Counter[str]:
    """``counted`` less ``probes`` reads of the probe's table (never below 0)."""
    own = Counter(counted)
    own[PROBE_CALL] -= probes
    return +own


@dataclass
class Idle:
    seconds: float
    calls: Counter[str]
    """What the fleet asked of AWS while nobody used it (its polling)."""
    probe_ms: list[float]

    @property
    def per_second(self) -> float:
        return sum(self.calls.values()) / self.seconds


@dataclass
class Alone:
    seconds: float
    calls_lifecycle: Counter[str]
    calls_activation: Counter[str]
    idle_per_second: float
    """Calls a second the fleet makes when nobody uses it (polling)."""
    idle_probe_ms: list[float]
    calls_idle: Counter[str]
    client: Person | None = None
    """The lifecycle's client, signed in (a caller for further measurements)."""
    requests: int = 0
    """The public requests the lifecycle made (the demo's polling included)."""
    polls: int = 0
    """The requests the driver made while it waited for events (``Story.until``)."""
    calls_polls: Counter[str] = field(default_factory=Counter)
    """Of ``calls_lifecycle``, about what those polls cost: each distinct poll
    replayed on the quiet fleet afterwards, its calls a request times how
    often it was polled."""


@dataclass
class Together:
    count: int
    activations: list[float]
    wall: float
    cpu: CpuSample
    moto_requests: int
    probe_ms: list[float]
    failures: list[str] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    """The fleet's AWS calls by kind while they ran (the probe's left out)."""


def idle(fleet: Fleet, seconds: float = 5.0) -> Idle:
    """The fleet's AWS calls during ``seconds`` in which nobody uses it."""
    probe = Probe(fleet)  # before counting: its set-up is not the fleet's call
    before = calls(fleet)
    with probe:
        time.sleep(seconds)
    after = calls(fleet)
    return Idle(seconds, without_probe(after - before, len(probe.ms)), probe.ms)


def alone(fleet: Fleet, idle_seconds: float = 5.0) -> Alone:
    """The fleet idle for ``idle_seconds``, then one lifecycle alone."""
    return lifecycle_alone(fleet, idle(fleet, idle_seconds))


def lifecycle_alone(fleet: Fleet, quiet: Idle) -> Alone:
    """One lifecycle alone, its AWS calls counted in all and between the last
    signature and ``active``, and its public requests (the local-only
    ``/dev/`` routes aside); ``quiet`` is what the idle fleet did before it."""
    marks: dict[str, Counter[str]] = {}
    requests = 0
    polling = False
    polled: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()

    def count(request: httpx.Request) -> None:
        nonlocal requests
        requests += "/dev/" not in request.url.path
        if TRACE:
            with open(TRACE, "a") as out:
                out.write(f"{time.time():.3f} >>> {request.method} {request.url.path}\n")
        if polling and request.method == "GET":
            auth = request.headers.get("authorization", "")
            polled[str(request.url), (("authorization", auth),) if auth else ()] += 1

    started = calls(fleet)
    with httpx.Client(base_url=fleet.edge, timeout=30, event_hooks={"request": [count]}) as api:
        story = Story(api, lambda _: None, poll=0.1)
        story.on_mark = lambda name: marks.__setitem__(name, calls(fleet))
        waiting = story.until

        def until(probe: Callable[[], Any], what: str) -> Any:
            nonlocal polling
            polling = True
            try:
                return waiting(probe, what)
            finally:
                polling = False

        story.until = until  # type: ignore[method-assign]
        facts = story.run()
        ended = calls(fleet)
        cost = poll_cost(fleet, api, polled)
    return Alone(
        seconds=facts["activationSeconds"],
        calls_lifecycle=ended - started,
        calls_activation=marks["active"] - marks["signed"],
        idle_per_second=quiet.per_second,
        idle_probe_ms=quiet.probe_ms,
        calls_idle=quiet.calls,
        client=facts["client"],
        requests=requests,
        polls=sum(polled.values()),
        calls_polls=cost,
    )


def poll_cost(
    fleet: Fleet,
    api: httpx.Client,
    polled: Counter[tuple[str, tuple[tuple[str, str], ...]]],
    replays: int = 3,
) -> Counter[str]:
    """What ``polled`` (request → times polled) cost at the embedded AWS:
    each request replayed ``replays`` times, its calls a request (rounded, so
    a long poll that returned meanwhile is not counted) times its polls."""
    total: Counter[str] = Counter()
    for (url, headers), times in polled.items():
        before = calls(fleet)
        for _ in range(replays):
            api.get(url, headers=dict(headers))
        each = calls(fleet) - before
        for kind, n in each.items():
            if round(n / replays):
                total[kind] += round(n / replays) * times
    return total


class Probe:
    """Times a one-item DynamoDB read every half second on a thread (the read
    waits behind the emulator's one lock for item operations, like every
    service's calls do)."""

    def __init__(self, fleet: Fleet) -> None:
        self.dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=fleet.state["aws"]["endpoint"],
            region_name="eu-west-1",
            **LOCAL_CREDENTIALS,
        )
        self.table = f"{PREFIX}{PROBE_TABLE}"
        schema = self.dynamodb.describe_table(TableName=self.table)["Table"]["KeySchema"]
        self.key = {schema[0]["AttributeName"]: {"S": "load-probe"}}
        self.ms: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            began = time.perf_counter()
            self.dynamodb.get_item(TableName=self.table, Key=self.key)
            self.ms.append((time.perf_counter() - began) * 1000)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def together(fleet: Fleet, count: int, say: Callable[[str], None] = print) -> Together:
    """``count`` whole lifecycles at once, each on its own thread."""
    failures: list[str] = []

    def lifecycle(_: int) -> float | None:
        with httpx.Client(base_url=fleet.edge, timeout=60) as api:
            try:
                facts = Story(api, lambda _: None, poll=0.1).run()
            except (AssertionError, httpx.HTTPError) as exc:
                failures.append(str(exc)[:300])
                return None
        seconds: float = facts["activationSeconds"]
        return seconds

    probe = Probe(fleet)
    before = calls(fleet)
    cpu = CpuSample(fleet.processes()).start()
    began = time.monotonic()
    with probe, ThreadPoolExecutor(count) as pool:
        results = list(pool.map(lifecycle, range(count)))
    wall = time.monotonic() - began
    cpu.stop()
    during = without_probe(calls(fleet) - before, len(probe.ms))
    activations = sorted(r for r in results if r is not None)
    say(f"{len(activations)} of {count} lifecycles completed in {wall:.1f} s")
    return Together(count, activations, wall, cpu, sum(during.values()), probe.ms, failures, during)


def summary(one: Alone, many: Together) -> dict[str, Any]:
    """The figures the report quotes."""
    assert many.cpu.cores is not None
    cpu_seconds = {name: cores * many.cpu.wall for name, cores in many.cpu.cores.items()}
    infra = ("aws (moto)", "redis", "load driver", "edge")
    services = sum(v for k, v in cpu_seconds.items() if k not in infra)
    probe = sorted(many.probe_ms)
    return {
        "aloneSeconds": one.seconds,
        "callsPerLifecycle": sum(one.calls_lifecycle.values()),
        "callsInActivation": sum(one.calls_activation.values()),
        "idleCallsPerSecond": one.idle_per_second,
        "topActivationCalls": one.calls_activation.most_common(8),
        "topLifecycleCalls": one.calls_lifecycle.most_common(8),
        "topIdleCalls": one.calls_idle.most_common(6),
        "p50": percentile(many.activations, 50) if many.activations else None,
        "p99": percentile(many.activations, 99) if many.activations else None,
        "min": many.activations[0] if many.activations else None,
        "max": many.activations[-1] if many.activations else None,
        "completed": len(many.activations),
        "count": many.count,
        "wall": many.wall,
        "motoCpuSeconds": cpu_seconds.get("aws (moto)", 0.0),
        "servicesCpuSeconds": services,
        "machineCores": many.cpu.machine_cores,
        "motoRequestsPerSecond": many.moto_requests / many.wall,
        "motoRequests": many.moto_requests,
        "probeIdleP50": percentile(sorted(one.idle_probe_ms), 50) if one.idle_probe_ms else None,
        "probeP50": percentile(probe, 50) if probe else None,
        "probeP99": percentile(probe, 99) if probe else None,
        "failures": many.failures,
    }


def explain(figures: dict[str, Any], cpus: int) -> list[str]:
    """What bounds activation under concurrency, from this run's figures."""
    if not figures["completed"] or figures["p50"] is None:
        return ["No lifecycle completed: nothing to explain."]
    moto_cores = figures["motoCpuSeconds"] / figures["wall"]
    per_call = 1000 * figures["motoCpuSeconds"] / max(figures["motoRequests"], 1)
    top_kind, top_count = (figures["topActivationCalls"] or [("-", 0)])[0]
    return [
        "**What bounds it.** Activation is two event hops after the last signature: "
        "`signature.completed` travels outbox → EventBridge → SQS to the ledger, whose "
        "consumer fetches the contract, appends the activation and the schedule to the "
        "journal (one hash chain: every append of every lifecycle takes the same tip, in "
        "turn) and publishes `ledger.contract-activated`, which travels the same way to the "
        f"contract service. Alone that took {figures['callsInActivation']} calls to the "
        f"embedded AWS (the largest group: {top_kind} x{top_count}) and "
        f"{figures['aloneSeconds']:.1f} s. Each consumer handles its messages one at a time, "
        "and every call waits at the embedded AWS: one Python process (one interpreter lock) "
        "in which `motoserver.py` also serializes every DynamoDB item operation behind one "
        "lock, so that conditions stay atomic.",
        f"With {figures['count']} lifecycles at once the fleet sent it "
        f"{figures['motoRequestsPerSecond']:.0f} calls/s; it used "
        f"{figures['motoCpuSeconds']:.1f} CPU-s ({moto_cores:.2f} of a core on average, "
        f"{per_call:.1f} ms of CPU a call) against {figures['servicesCpuSeconds']:.1f} CPU-s "
        "for all eleven services together, and a single item read waited "
        f"{figures['probeP50']:.0f} ms instead of {figures['probeIdleP50'] or 0:.0f} ms "
        "— waiting, not working. The activations queue behind each other at the emulator "
        f"and in the two one-at-a-time consumers: p50 {figures['p50']:.1f} s against "
        f"{figures['aloneSeconds']:.1f} s alone. {_bound(moto_cores, figures, cpus)} Not "
        "tuned here (the "
        "performance issue will): the levers are fewer calls per event (each lifecycle costs "
        f"{figures['callsPerLifecycle']} calls), consumers that handle a batch "
        "concurrently, and an emulator that is not one locked process.",
    ]


def _bound(moto_cores: float, figures: dict[str, Any], cpus: int) -> str:
    if moto_cores >= SATURATED_CORES:
        return (
            "The emulator is the bound: its one process was busy for a whole core, more "
            "than the services' CPU, while they waited on it."
        )
    if figures["machineCores"] >= SATURATED_CORES * cpus:
        return (
            f"In this run the machine's {cpus} cores were full ({figures['machineCores']:.2f} "
            "busy on average, other engineers' runs included), so the emulator got less than "
            "a core; of this run's own work it is still the largest consumer, so the bound is "
            "the emulator starved of CPU, with the serial consumers in front of it."
        )
    return (
        "Neither the emulator nor the machine was out of CPU: the bound is the serial "
        "chain itself (one message at a time per consumer, one journal tip)."
    )
