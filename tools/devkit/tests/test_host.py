"""The fleet host: several apps in one process stay apart — each keeps its
own settings and its own log, calls its peers over real HTTP with service
tokens, receives events through the embedded AWS — and the process stops
them all on one signal."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import json
import os
import random
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpx
import pytest

from mindlinks_dev.bootstrap import bootstrap
from mindlinks_dev.embedded import free_port
from mindlinks_dev.harness import ENTRY_POINT_GROUP
from mindlinks_dev.host import Host, Hosted
from mindlinks_dev.local_plan import EDGE_TARGET
from mindlinks_dev.supervisor import busy_ports
from mindlinks_fleet import FLEET
from mindlinks_fleet.internal import auth

PASSWORD = "Correct-Horse-9-Battery"
READY_SECONDS = 60.0


def free_offset(names: Sequence[str]) -> int:
    """A port offset at which the named services' ports are all free."""
    ports = {s.name: s.port for s in FLEET.services if s.name in names}
    for _ in range(50):
        offset = random.randrange(40000, 60000, 100)
        if not busy_ports({name: port + offset for name, port in ports.items()}):
            return offset
    raise RuntimeError("no free port offset")


@pytest.fixture
def prefix(aws_endpoint: str) -> str:
    """Resources of this test's own: its relays and consumers run, so they
    must not take other tests' events."""
    prefix = f"h{uuid.uuid4().hex[:8]}-"
    bootstrap(FLEET, endpoint_url=aws_endpoint, prefix=prefix)
    return prefix


async def ready(urls: Sequence[str], *, alive: Callable[[], bool] = lambda: True) -> None:
    """Until every URL answers 200."""
    deadline = asyncio.get_running_loop().time() + READY_SECONDS
    async with httpx.AsyncClient() as client:
        for url in urls:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(url, timeout=2)).status_code == 200:
                        break
                assert alive(), f"the host exited before {url} was ready"
                assert asyncio.get_running_loop().time() < deadline, f"{url} not ready"
                await asyncio.sleep(0.2)


def factory(name: str, **settings: Any) -> Callable[[], Any]:
    """The service's own factory, given its settings explicitly."""
    create = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}[name].load()
    kind = importlib.import_module(f"mindlinks_{name}.settings").Settings
    return functools.partial(create, kind(**settings))


@contextlib.asynccontextmanager
async def hosting(apps: Sequence[Hosted]) -> AsyncIterator[Host]:
    host = Host(apps)
    serving = asyncio.create_task(host.run())
    try:
        await ready(
            [f"http://127.0.0.1:{app.port}/health/ready" for app in apps],
            alive=lambda: not serving.done(),
        )
        yield host
    finally:
        host.stop()
        await asyncio.wait_for(serving, timeout=60)


async def test_apps_in_one_host_keep_their_settings_and_talk_over_http(
    fleet_resources: Any, prefix: str
) -> None:
    names = ("auth", "user", "client")
    offset = free_offset(names)
    ports = {s.name: s.port + offset for s in FLEET.services}
    apps = [
        Hosted(
            name,
            ports[name],
            factory(
                name,
                version=f"1.0.0+{name}",
                resource_prefix=prefix,
                port_offset=offset,
                background_workers=True,  # events travel as in a local run
                relay_interval_seconds=0.5,
            ),
        )
        for name in names
    ]
    async with hosting(apps) as host, httpx.AsyncClient() as http:
        for name in names:  # each app answers on its own port with its own settings
            live = (await http.get(f"http://127.0.0.1:{ports[name]}/health/live")).json()
            assert (live["service"], live["version"]) == (name, f"1.0.0+{name}")
            assert host.built[name].state.runtime.settings.version == f"1.0.0+{name}"

        email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
        registered = await http.post(
            f"http://127.0.0.1:{ports['auth']}/v1/auth/register",
            json={"email": email, "password": PASSWORD, "name": "Ada", "role": "client"},
        )
        assert registered.status_code == 202, registered.text
        keys = host.built["auth"].state.deps.keys
        admin, _ = keys.service_token("admin", 300)
        found = await http.get(
            f"http://127.0.0.1:{ports['auth']}{auth.USERS.fill()}",
            params={"email": email},
            headers={"authorization": f"Bearer {admin}"},
        )
        [account] = found.json()["items"]

        # user.created: auth's outbox → EventBridge → SQS → user's consumer,
        # all through the embedded AWS; user checks the token with auth's keys
        # (fetched over HTTP).
        token, _ = keys.access_token(account["id"], "client", "s-1", 300, ("pwd",))
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            me = await http.get(
                f"http://127.0.0.1:{ports['user']}/v1/users/me",
                headers={"authorization": f"Bearer {token}"},
            )
            if me.status_code == 200 or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.2)
        assert me.status_code == 200, me.text
        assert me.json()["email"] == email

        # A peer call with a service token, from client to auth, over HTTP:
        # client fetches its token from auth's token route with its own secret.
        peers = host.built["client"].state.runtime.peers
        looked_up = await peers.request("auth", "GET", auth.USER.fill(account["id"]))
        assert looked_up.status_code == 200, looked_up.text
        assert looked_up.json()["id"] == account["id"]
        assert peers.tokens is not None


def _host_environment(prefix: str, offset: int, services: Sequence[str]) -> dict[str, str]:
    return {
        **os.environ,
        "MINDLINKS_RESOURCE_PREFIX": prefix,
        "MINDLINKS_PORT_OFFSET": str(offset),
        "MINDLINKS_LOG_LEVEL": "INFO",
        "MINDLINKS_EDGE_SERVICES": ",".join(services),
    }


def _json_lines(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text().splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


async def test_the_host_command_logs_each_app_apart_and_stops_on_sigterm(
    fleet_resources: Any, prefix: str, tmp_path: Path
) -> None:
    """The command as ``mindlinks-local`` runs it: each app's lines in its
    own file, naming its service; an app that cannot be built does not stop
    the others; SIGTERM stops every app gracefully."""
    offset = free_offset(["auth", "user", "kyc"])
    edge, auth_port, user_port, broken = free_port(), offset + 3001, offset + 3002, offset + 3005
    serve = {
        "edge": (edge, EDGE_TARGET),
        "auth": (auth_port, "mindlinks_auth.app:create"),
        "user": (user_port, "mindlinks_user.app:create"),
        "broken": (broken, "mindlinks_dev.no_such_module:create"),
    }
    command = [sys.executable, "-m", "mindlinks_dev.host", "--log-dir", str(tmp_path)]
    command += ["--after", str(tmp_path / "go")]  # as the runner: the edge logs its requests
    for name, (port, target) in serve.items():
        command += ["--serve", name, str(port), target]
    with (tmp_path / "host.log").open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            env=_host_environment(prefix, offset, ["auth", "user"]),
        )
    try:
        (tmp_path / "go").touch()
        await ready(
            [
                f"http://127.0.0.1:{edge}/health/live",
                f"http://127.0.0.1:{auth_port}/health/ready",
                f"http://127.0.0.1:{user_port}/health/ready",
            ],
            alive=lambda: process.returncode is None,
        )
        async with httpx.AsyncClient() as http:
            refused = await http.get(f"http://127.0.0.1:{edge}/v1/users/me")
            assert refused.status_code == 401  # through the edge, answered by user
            jwks = await http.get(f"http://127.0.0.1:{auth_port}/.well-known/jwks.json")
            assert jwks.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=60)
    assert code == 0, (tmp_path / "host.log").read_text()

    logs = {name: tmp_path / f"{name}.log" for name in serve}
    for name in ("auth", "user"):
        lines = [line for line in _json_lines(logs[name]) if "event" in line]
        assert {line.get("service") for line in lines} == {name}, lines
        metrics = [line for line in _json_lines(logs[name]) if "_aws" in line]
        assert metrics
        assert {line["Service"] for line in metrics} == {name}
        events = [line["event"] for line in lines]
        assert "service.started" in events
        assert events[-1] == "service.stopped"
        assert "Application shutdown complete." in logs[name].read_text()
    routes = {(line.get("route"), line.get("status")) for line in _json_lines(logs["user"])}
    assert ("/v1/users/me", 401) in routes
    assert ("/.well-known/jwks.json", 200) in {
        (line.get("route"), line.get("status")) for line in _json_lines(logs["auth"])
    }
    edge_log = logs["edge"].read_text()
    assert edge_log.count('"GET /v1/users/me HTTP/1.1" 401 Unauthorized') == 1  # the edge's own
    assert '"GET /.well-known/jwks.json HTTP/1.1"' not in logs["auth"].read_text()
    failed = _json_lines(logs["broken"])
    assert "host.build_failed" in [line["event"] for line in failed]
    assert {line.get("service") for line in failed} == {"broken"}
    assert "host.built" in [line["event"] for line in _json_lines(tmp_path / "host.log")]


def test_an_app_is_named_once() -> None:
    app = Hosted("auth", 1, dict)
    with pytest.raises(ValueError, match="named twice"):
        Host([app, app])
