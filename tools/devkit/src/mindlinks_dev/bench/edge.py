"""The edge alone, measured and profiled: ``python -m mindlinks_dev.bench.edge``.

Starts the edge as ``mindlinks-local --processes`` does (its own uvicorn
process, writing its access log; no rate limit, as the bench's fleet runs it) in
front of a stand-in user service (a plain ASGI app answering
``GET /v1/users/me`` as the real one does, so no service CPU is mixed in),
then measures the edge's CPU per request from ``/proc`` the way the bench's
row does (``outside.edge_cost``): a proxied ``GET /v1/users/me`` against the
edge's own ``/health/live``. ``--profile FILE`` has py-spy sample the edge
over more proxied requests and prints where the CPU went (docs/profiles.md).

``--fleet`` measures the bench's own way instead: the whole fleet as
``make bench`` starts it, at ``--port-offset``, and ``outside.edge_cost``
with a person just signed up.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from mindlinks_dev.bench.outside import cpu_per_request, edge_cost
from mindlinks_dev.bench.profile import stacks
from mindlinks_dev.demo import Person, Story, expect
from mindlinks_dev.embedded import free_port, wait_for
from mindlinks_dev.load.fleet import fleet_with_retries
from mindlinks_dev.local_plan import (
    EDGE_TARGET,
    edge_environment,
    uvicorn_command,
    without_settings,
)
from mindlinks_fleet import FLEET

ME = json.dumps(
    {
        "id": "usr_01JEDGEBENCH000000000000",
        "email": "someone@example.com",
        "name": "Some One",
        "role": "client",
        "status": "active",
        "locale": "en-GB",
        "timeZone": "Europe/London",
        "createdAt": "2026-12-03T21:31:00Z",
        "updatedAt": "2026-12-03T21:31:00Z",
    }
).encode()
UPSTREAM_MS = "MINDLINKS_BENCH_UPSTREAM_MS"
TOKEN = "Bearer " + "eyJhbGciOiJSUzI1NiJ9." + "e" * 420 + "." + "s" * 342
"""As long as an access token of auth's (an RS256 JWT)."""


def stand_in() -> Any:
    """The uvicorn factory of the stand-in user service; it answers after
    ``MINDLINKS_BENCH_UPSTREAM_MS`` (the edge's CPU per request grows with
    the time it waits: its caches go cold while the machine runs others)."""
    delay = float(os.environ.get(UPSTREAM_MS, "0")) / 1000

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        while (await receive()).get("more_body"):
            pass
        if delay:
            await asyncio.sleep(delay)
        correlation = dict(scope["headers"]).get(b"x-correlation-id", b"-")
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(ME)).encode()),
            (b"x-correlation-id", correlation),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": ME})

    return app


@contextmanager
def edge_alone(log_dir: Path, upstream_ms: float = 0.0) -> Iterator[tuple[str, int]]:
    """The edge in front of the stand-in user service answering after
    ``upstream_ms``; the edge's URL and pid."""
    service_port, edge_port = free_port(), free_port()
    env = edge_environment(
        without_settings(os.environ),
        services=["user"],
        cors_origins=None,
        rate=0,
        burst=40,
        public_url=f"http://127.0.0.1:{edge_port}",
    ) | {"MINDLINKS_PORT_OFFSET": str(service_port - FLEET.service("user").port)}
    stand_in_env = {**os.environ, UPSTREAM_MS: str(upstream_ms)}
    with ExitStack() as stack:
        for target, port, environment, log in (
            ("mindlinks_dev.bench.edge:stand_in", service_port, stand_in_env, "user.log"),
            (EDGE_TARGET, edge_port, env, "edge.log"),
        ):
            out = stack.enter_context((log_dir / log).open("wb"))
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                uvicorn_command(target, port),  # the edge writes its access log itself
                stdout=out,
                stderr=subprocess.STDOUT,
                env=environment,
            )
            stack.callback(_stop, process)
        url = f"http://127.0.0.1:{edge_port}"
        wait_for(f"{url}/health/ready", timeout=120)
        yield url, process.pid


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)


def top_frames(collapsed: Path, count: int = 25) -> list[tuple[float, str]]:
    """The share of samples each function was on the stack for (py-spy's raw
    output: ``frame;frame;... samples`` per line), largest first."""
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for stack, samples in stacks(collapsed.read_text()):
        total += samples
        for frame in {re.sub(r":\d+\)$", ")", f) for f in stack if "(" in f}:
            inclusive[frame] += samples
    shares = [(n / max(total, 1), frame) for frame, n in inclusive.most_common()]
    return [(share, frame) for share, frame in shares if share < 0.995][:count]  # not the loop's


def measure(api: httpx.Client, pid: int, requests: int, rounds: int) -> tuple[float, float]:
    """The medians over ``rounds`` of (proxied, own route) CPU ms per request."""
    me = {"authorization": TOKEN}
    figures = []
    for _ in range(rounds):
        proxied = cpu_per_request(api, "/v1/users/me", me, pid, requests)
        own = cpu_per_request(api, "/health/live", {}, pid, requests)
        figures.append((proxied, own))
        print(f"proxied {proxied:.3f} ms, own route {own:.3f} ms", flush=True)
    proxied, own = (statistics.median(f[i] for f in figures) for i in (0, 1))
    return proxied, own


def profile(api: httpx.Client, pid: int, requests: int, samples: Path) -> None:
    """py-spy's samples of the edge over ``requests`` proxied requests."""
    spy = Path(sys.executable).with_name("py-spy")
    command = [str(spy), "record", "-p", str(pid), "-r", "250", "-f", "raw", "-o", str(samples)]
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603 - the venv's
    cpu_per_request(api, "/v1/users/me", {"authorization": TOKEN}, pid, requests)
    recorder.send_signal(signal.SIGINT)
    recorder.wait(timeout=60)


def in_the_fleet(port_offset: int, run_dir: Path) -> None:
    """``outside.edge_cost`` in the fleet as the bench runs it."""
    with fleet_with_retries(run_dir, port_offset, port_offset + 8080) as fleet:
        print(f"fleet ready in {fleet.ready_seconds:.0f} s", flush=True)
        person = Person(f"edge-{uuid.uuid4().hex[:8]}@example.com", "Edge Bench", "client")
        with httpx.Client(base_url=fleet.edge, timeout=30) as api:
            story = Story(api, print)
            story.sign_up(person)
            story.until(
                lambda: api.get("/v1/users/me", headers=person.auth).status_code == 200,
                "the user's profile",
            )
            expect(api.get("/v1/users/me", headers=person.auth), 200)
        cost = edge_cost(fleet, person)
    print(
        f"edge_cost: proxied {cost.proxied:.3f} ms, own {cost.own:.3f} ms, "
        f"hop {cost.proxied - cost.own:.3f} ms (the user service {cost.user:.3f} ms)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per route and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=Path, help="py-spy's raw samples go here")
    parser.add_argument(
        "--upstream-ms", type=float, default=0.0, help="the stand-in answers after this long"
    )
    parser.add_argument("--fleet", action="store_true", help="the whole fleet, edge_cost")
    parser.add_argument("--port-offset", type=int, default=14000, help="the fleet's")
    args = parser.parse_args(argv)
    if args.fleet:
        with tempfile.TemporaryDirectory() as run_dir:
            in_the_fleet(args.port_offset, Path(run_dir))
        return 0
    with (
        tempfile.TemporaryDirectory() as logs,
        edge_alone(Path(logs), args.upstream_ms) as (url, pid),
        httpx.Client(base_url=url, timeout=30) as api,
    ):
        proxied, own = measure(api, pid, args.requests, args.rounds)
        print(f"median: proxied {proxied:.3f} ms, own {own:.3f} ms, hop {proxied - own:.3f} ms")
        if args.profile:
            profile(api, pid, args.requests, args.profile)
            for share, frame in top_frames(args.profile):
                print(f"{share:6.1%}  {frame}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
