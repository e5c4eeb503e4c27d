"""Activation after the last signature, measured from outside.

A lifecycle is the demo's whole story (``Story.run``: company, invitation,
onboarding with KYC, contract, both signatures, activation, payment intents,
funding, release). The time from the last signature's answer to the
contract read back ``active`` is measured for one lifecycle alone and for
several at once. What bounds it is measured at the embedded AWS: every call
the fleet makes there is counted per operation and table (moto's request
recorder, for one lifecycle alone), the emulator's CPU is sampled against
the services', and a probe times one cheap DynamoDB read every half second
while the lifecycles run (how long any call waits at the emulator).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx

from mindlinks_dev.bootstrap import LOCAL_CREDENTIALS
from mindlinks_dev.demo import Story
from mindlinks_dev.load.fleet import CpuSample, Fleet
from mindlinks_dev.load.ramp import SATURATED_CORES
from mindlinks_dev.load.stats import percentile

PREFIX = "mindlinks-local-"


def classify(entry: dict[str, Any]) -> str:
    """``service operation`` of one recorded AWS request, e.g. ``contract
    DynamoDB.Query outbox`` or ``- SQS.ReceiveMessage contract``."""
    headers = {k.lower(): v for k, v in entry.get("headers", {}).items()}
    body: Any = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    try:
        payload: dict[str, Any] = json.loads(body) if body else {}
    except ValueError:
        payload = {}
    target = headers.get("x-amz-target", "")
    if target:
        service, _, operation = target.partition(".")
        api = {"DynamoDB_20120810": "DynamoDB", "AmazonSQS": "SQS", "AWSEvents": "Events"}
        name = f"{api.get(service, service)}.{operation}"
    else:
        name = f"{entry.get('method', '?')} {str(entry.get('url', '?')).split('?')[0]}"
        return f"S3/other {name[:60]}"
    resource = payload.get("TableName") or payload.get("QueueUrl", "").rsplit("/", 1)[-1]
    if not resource and payload.get("TransactItems"):
        first = next(iter(payload["TransactItems"][0].values()))
        resource = first.get("TableName", "")
    return f"{name} {resource.removeprefix(PREFIX)}".strip()


def recorded(path: Path, start: int = 0, end: int | None = None) -> Counter[str]:
    """Recorded AWS calls (lines ``start``..``end`` of moto's recording), by kind."""
    if not path.exists():
        return Counter()
    lines = path.read_text().splitlines()[start:end]
    return Counter(classify(json.loads(line)) for line in lines if line.strip())


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


@dataclass
class Alone:
    seconds: float
    calls_lifecycle: Counter[str]
    calls_activation: Counter[str]
    idle_per_second: float
    """Calls a second the fleet makes when nobody uses it (polling)."""
    idle_probe_ms: list[float]
    calls_idle: Counter[str]


@dataclass
class Together:
    count: int
    activations: list[float]
    wall: float
    cpu: CpuSample
    moto_requests: int
    probe_ms: list[float]
    failures: list[str] = field(default_factory=list)


def _moto(fleet: Fleet, action: str) -> None:
    httpx.post(f"{fleet.state['aws']['endpoint']}/moto-api/recorder/{action}", timeout=10)


def alone(fleet: Fleet, idle_seconds: float = 5.0) -> Alone:
    """One lifecycle with moto recording every call it receives."""
    recording = fleet.run_dir / "moto-recording.jsonl"
    _moto(fleet, "reset-recording")
    _moto(fleet, "start-recording")
    with Probe(fleet) as probe:
        time.sleep(idle_seconds)
    started = _lines(recording)
    idle = started - len(probe.ms) - 1  # the probe's own calls are not the fleet's
    marks: dict[str, int] = {}
    try:
        with httpx.Client(base_url=fleet.edge, timeout=30) as api:
            story = Story(api, lambda _: None, poll=0.1)
            story.on_mark = lambda name: marks.__setitem__(name, _lines(recording))
            facts = story.run()
        end = _lines(recording)
    finally:
        _moto(fleet, "stop-recording")
    return Alone(
        seconds=facts["activationSeconds"],
        calls_lifecycle=recorded(recording, started, end),
        calls_activation=recorded(recording, marks["signed"], marks["active"]),
        idle_per_second=idle / idle_seconds,
        idle_probe_ms=probe.ms,
        calls_idle=recorded(recording, 0, started),
    )


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
        self.table = f"{PREFIX}contract-templates"
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
    moto_log = fleet.run_dir / "moto.log"
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

    before = _lines(moto_log)
    cpu = CpuSample(fleet.processes()).start()
    began = time.monotonic()
    with Probe(fleet) as probe, ThreadPoolExecutor(count) as pool:
        results = list(pool.map(lifecycle, range(count)))
    wall = time.monotonic() - began
    cpu.stop()
    activations = sorted(r for r in results if r is not None)
    say(f"{len(activations)} of {count} lifecycles completed in {wall:.1f} s")
    return Together(count, activations, wall, cpu, _lines(moto_log) - before, probe.ms, failures)


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
        "topIdleCalls": [
            (kind, n)
            for kind, n in one.calls_idle.most_common(6)
            if "contract-templates" not in kind
        ],
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
