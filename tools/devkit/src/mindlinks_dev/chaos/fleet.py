"""The fleet the chaos suite attacks: ``make run``'s parts (the embedded AWS,
a Redis of its own, every service as its own uvicorn process under the
restarting supervisor, the edge), with a fault proxy in front of the embedded
AWS, of Redis and of one peer, so that each can be cut or slowed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from mindlinks_dev.bootstrap import bootstrap
from mindlinks_dev.chaos.proxy import FaultProxy
from mindlinks_dev.embedded import free_port, moto_server, redis_server
from mindlinks_dev.local_plan import (
    PREFIX,
    edge_environment,
    plan_parts,
    plan_services,
    service_environment,
    uvicorn_command,
    without_settings,
)
from mindlinks_dev.runner import installed
from mindlinks_dev.supervisor import HOST, Part, Restart, Supervisor
from mindlinks_fleet import FLEET


@dataclass(frozen=True)
class Endpoints:
    """Where a running local fleet answers: enough to replay events and
    webhooks into it and to read its tables (``make run``'s, the end-to-end
    suite's or the chaos suite's own)."""

    edge_url: str
    aws_direct: str
    """The embedded AWS itself, behind no proxy: the invariant checks read here."""
    prefix: str

    @classmethod
    def of_state(cls, state_file: Path, edge_url: str) -> Endpoints:
        """The fleet whose runner wrote ``state_file`` (``.run/state.json``)."""
        state = json.loads(state_file.read_text(encoding="utf-8"))
        return cls(edge_url, state["aws"]["endpoint"], state["aws"]["prefix"])


@dataclass
class ChaosFleet:
    run_dir: Path
    endpoints: Endpoints
    victim: str
    """The peer behind a fault proxy of its own."""
    parts: list[Part]
    supervisor: Supervisor
    proxies: dict[str, FaultProxy]
    """``aws``, ``redis`` and the victim's name."""
    say: Callable[[str], None] = print
    restarts: list[Restart] = field(default_factory=list)

    @property
    def edge_url(self) -> str:
        return self.endpoints.edge_url

    @property
    def services(self) -> list[Part]:
        return [part for part in self.parts if part.name != "edge"]

    async def ready(self, timeout: float) -> dict[str, str]:
        return await self.supervisor.wait_ready(self.parts, timeout)


def callee_services() -> list[str]:
    """Services another service calls over HTTP: the candidates for a slow peer."""
    return sorted({peer for service in FLEET.services for peer in service.peers})


@contextlib.asynccontextmanager
async def chaos_fleet(
    run_dir: Path,
    *,
    victim: str,
    port_offset: int,
    edge_port: int,
    ready_timeout: float = 180.0,
    say: Callable[[str], None] = print,
) -> AsyncIterator[ChaosFleet]:
    mailbox = await asyncio.to_thread(_fresh_mailbox, run_dir)
    base = without_settings(os.environ)
    with contextlib.ExitStack() as infra:
        aws = infra.enter_context(moto_server(log=run_dir / "moto.log"))
        redis_url, _ = infra.enter_context(redis_server(log=run_dir / "redis.log"))
        await asyncio.to_thread(bootstrap, FLEET, endpoint_url=aws, prefix=PREFIX)
        redis_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
        proxies = {
            "aws": FaultProxy("aws", free_port(), int(aws.rsplit(":", 1)[1])),
            "redis": FaultProxy("redis", free_port(), redis_port),
        }
        plan = plan_services(FLEET, installed())
        public_url = f"http://localhost:{edge_port}"
        offset = {"MINDLINKS_PORT_OFFSET": str(port_offset)}
        env = (
            service_environment(
                base,
                aws_endpoint=f"http://{HOST}:{proxies['aws'].listen_port}",
                redis_url=f"redis://{HOST}:{proxies['redis'].listen_port}/0",
                mailbox=mailbox,
                public_url=public_url,
            )
            | offset
        )
        edge_env = (
            edge_environment(
                base,
                services=[s.name for s, _ in plan],
                cors_origins=None,
                rate=0,  # this run measures the fleet, not the edge's per-IP limit
                burst=40,
                public_url=public_url,
            )
            | offset
        )
        parts = plan_parts(
            plan,
            run_dir=run_dir,
            edge_port=edge_port,
            env=env,
            edge_env=edge_env,
            port_offset=port_offset,
        )
        parts = [_behind_proxy(part, proxies) if part.name == victim else part for part in parts]
        for proxy in proxies.values():
            await proxy.start()
        _write_state(run_dir, aws, redis_url, public_url)
        supervisor = Supervisor()
        fleet = ChaosFleet(
            run_dir=run_dir,
            endpoints=Endpoints(f"http://{HOST}:{edge_port}", aws, PREFIX),
            victim=victim,
            parts=parts,
            supervisor=supervisor,
            proxies=proxies,
            say=say,
        )
        stop = asyncio.Event()
        try:
            await asyncio.gather(*(supervisor.start(part) for part in parts))
            statuses = await fleet.ready(ready_timeout)
            waiting = {name: status for name, status in statuses.items() if status != "ready"}
            if waiting:
                raise RuntimeError(f"the fleet did not get ready: {waiting}; see {run_dir}")
            watching = asyncio.create_task(
                supervisor.watch(stop, say, on_restart=fleet.restarts.append)
            )
            try:
                yield fleet
            finally:
                stop.set()
                await watching
        finally:
            await supervisor.stop()
            for proxy in proxies.values():
                await proxy.close()
            (run_dir / "state.json").unlink(missing_ok=True)


def _fresh_mailbox(run_dir: Path) -> Path:
    mailbox = run_dir / "mailbox"
    shutil.rmtree(mailbox, ignore_errors=True)
    mailbox.mkdir(parents=True)
    return mailbox


def _behind_proxy(part: Part, proxies: dict[str, FaultProxy]) -> Part:
    """Move ``part`` to a hidden port and put a fault proxy on its declared
    one: every caller (peers, the edge) goes through the proxy, while the
    supervisor still probes the process itself."""
    declared = int(part.url.rsplit(":", 1)[1])
    hidden = free_port()
    target = part.command[part.command.index("--factory") + 1]
    proxies[part.name] = FaultProxy(part.name, declared, hidden)
    return replace(part, url=f"http://{HOST}:{hidden}", command=uvicorn_command(target, hidden))


def _write_state(run_dir: Path, aws: str, redis_url: str, public_url: str) -> None:
    """What ``mindlinks-ops --state`` reads: the embedded AWS itself (an
    operator's tools keep working while a service's link is cut)."""
    state = {
        "pid": os.getpid(),
        "edge": public_url,
        "aws": {"endpoint": aws, "prefix": PREFIX},
        "redis": {"url": redis_url, "kind": "redis-server"},
        "mailbox": str(run_dir / "mailbox"),
    }
    (run_dir / "state.json").write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
