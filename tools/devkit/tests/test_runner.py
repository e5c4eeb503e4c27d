"""The local runner: what it plans from the fleet, what each process reads,
and a short smoke run of real processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mindlinks_dev import harness, runner
from mindlinks_dev.edge import EdgeSettings
from mindlinks_dev.embedded import free_port
from mindlinks_dev.local_plan import (
    AWS_READY,
    EDGE_TARGET,
    edge_environment,
    plan_host,
    plan_parts,
    plan_services,
    service_environment,
    uvicorn_command,
)
from mindlinks_dev.runner import main, same_redis
from mindlinks_dev.supervisor import Endpoint, Part, Supervisor, busy_ports, readiness_table
from mindlinks_fleet import FLEET
from mindlinks_kit import clock
from mindlinks_kit.settings import ServiceSettings

ALL = {s.name: f"mindlinks_{s.name}.app:create" for s in FLEET.services}


def test_plans_every_installed_service_in_fleet_order() -> None:
    installed = {"user": "u.app:create", "auth": "a.app:create", "stranger": "s.app:create"}
    plan = plan_services(FLEET, installed)
    assert [(s.name, s.port, target) for s, target in plan] == [
        ("auth", 3001, "a.app:create"),
        ("user", 3002, "u.app:create"),
    ]
    assert [s.name for s, _ in plan_services(FLEET, ALL)] == [s.name for s in FLEET.services]


def test_services_are_found_by_the_harness_entry_point_group() -> None:
    assert runner.SERVICES_GROUP == harness.ENTRY_POINT_GROUP


def test_plans_only_and_skip() -> None:
    assert [s.name for s, _ in plan_services(FLEET, ALL, ["user", "auth"])] == ["auth", "user"]
    assert plan_services(FLEET, ALL, []) == []
    skipped = [s.name for s, _ in plan_services(FLEET, ALL, None, ["auth"])]
    assert "auth" not in skipped
    assert len(skipped) == len(FLEET.services) - 1
    with pytest.raises(LookupError, match="nobody"):
        plan_services(FLEET, ALL, ["nobody"])
    with pytest.raises(LookupError, match="not installed: kyc"):
        plan_services(FLEET, {"auth": "a:create"}, ["auth", "kyc"])


def test_service_environment_is_what_the_settings_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    base = {"PATH": "/bin", "MINDLINKS_ENVIRONMENT": "test", "MINDLINKS_LOG_LEVEL": "DEBUG"}
    env = service_environment(
        base,
        aws_endpoint="http://127.0.0.1:5000",
        redis_url="redis://127.0.0.1:7000/0",
        mailbox=tmp_path / "mailbox",
        public_url="http://localhost:8080",
    )
    assert env["PATH"] == "/bin"
    assert env["MINDLINKS_LOG_LEVEL"] == "DEBUG"  # the developer's own choices stay
    assert env["MINDLINKS_MAILBOX_DIR"] == str(tmp_path / "mailbox")
    for key in [k for k in os.environ if k.startswith("MINDLINKS_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        if key.startswith("MINDLINKS_"):
            monkeypatch.setenv(key, value)
    settings = ServiceSettings()
    assert settings.environment == "local"
    assert settings.local_mode
    assert settings.resource_prefix == "mindlinks-local-"
    assert settings.aws_endpoint_url == "http://127.0.0.1:5000"
    assert settings.redis_url == "redis://127.0.0.1:7000/0"
    assert settings.peer_url_template.format(name="auth", port=3001) == "http://127.0.0.1:3001"
    assert settings.public_base_url == "http://localhost:8080"
    assert settings.background_workers


def test_edge_environment_is_what_the_edge_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    env = edge_environment(
        {},
        services=["auth", "user"],
        cors_origins=["http://localhost:3000"],
        rate=5.0,
        burst=10,
        public_url="http://localhost:9090",
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = EdgeSettings()
    assert settings.services == ["auth", "user"]
    assert settings.cors_origins == ["http://localhost:3000"]
    assert (settings.rate_per_second, settings.burst) == (5.0, 10)
    assert settings.public_url == "http://localhost:9090"
    assert settings.peer_url_template == "http://127.0.0.1:{port}"

    monkeypatch.setenv("MINDLINKS_EDGE_CORS_ORIGINS", "http://localhost:5173")
    kept = edge_environment(
        os.environ, services=[], cors_origins=None, rate=1, burst=1, public_url="http://x"
    )
    assert kept["MINDLINKS_EDGE_CORS_ORIGINS"] == "http://localhost:5173"


def test_parts_run_uvicorn_factories_on_the_fleet_ports(tmp_path: Path) -> None:
    plan = plan_services(FLEET, {"auth": "mindlinks_auth.app:create"})
    parts = plan_parts(plan, run_dir=tmp_path, edge_port=8080, env={"A": "1"}, edge_env={"B": "2"})
    edge, auth = parts
    assert (edge.name, edge.url, edge.probe) == ("edge", "http://127.0.0.1:8080", "/health/live")
    # uvicorn's access log off: the edge writes its own (not every line twice)
    assert edge.command == uvicorn_command(EDGE_TARGET, 8080)
    assert edge.env == {"B": "2"}
    assert (auth.name, auth.url, auth.probe) == ("auth", "http://127.0.0.1:3001", "/health/ready")
    assert auth.log == tmp_path / "auth.log"
    assert auth.command[:5] == (
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "mindlinks_auth.app:create",
    )
    options = " ".join(auth.command[5:])
    assert "--host 127.0.0.1 --port 3001 --timeout-graceful-shutdown 10" in options
    assert "--no-access-log" in options


def test_same_redis() -> None:
    assert same_redis("redis://localhost:6379/9", "redis://127.0.0.1/9")
    assert not same_redis("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/9")
    assert same_redis("redis://127.0.0.1:6379", "redis://127.0.0.1:6379/0")
    assert not same_redis("redis://127.0.0.1:6380/9", "redis://127.0.0.1:6379/9")


def test_readiness_table() -> None:
    table = readiness_table(
        [
            ("edge", "http://localhost:8080", "ready"),
            ("auth", "http://127.0.0.1:3001", "exited (1)"),
        ]
    )
    assert table.splitlines() == [
        "part  url                    status",
        "edge  http://localhost:8080  ready",
        "auth  http://127.0.0.1:3001  exited (1)",
    ]


def test_busy_ports_are_reported() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert busy_ports({"auth": port, "edge": free_port()}) == {"auth": port}


def test_the_runner_refuses_the_test_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://localhost:6379/9")
    monkeypatch.delenv("MINDLINKS_TEST_REDIS_URL", raising=False)
    assert runner.main(["--only", "", "--edge-port", str(free_port())]) == 2


def _edge_part(tmp_path: Path) -> Part:
    """The edge with no services behind it: a real part that starts fast."""
    port = free_port()
    return Part(
        "edge",
        f"http://127.0.0.1:{port}",
        "/health/live",
        uvicorn_command(EDGE_TARGET, port),
        {**os.environ, "MINDLINKS_EDGE_SERVICES": ""},
        tmp_path / "edge.log",
    )


async def test_supervisor_starts_probes_and_stops_real_processes(tmp_path: Path) -> None:
    edge = _edge_part(tmp_path)
    env = dict(edge.env)
    crash = Part(
        "crash",
        "http://127.0.0.1:9",
        "/health/ready",
        (sys.executable, "-c", "raise SystemExit(3)"),
        env,
        tmp_path / "crash.log",
    )
    supervisor = Supervisor()
    await asyncio.gather(supervisor.start(edge), supervisor.start(crash))
    try:
        statuses = await supervisor.wait_ready([edge, crash], timeout=60)
    finally:
        codes = await supervisor.stop()
    assert statuses == {"edge": "ready", "crash": "exited (3)"}
    # uvicorn shuts down gracefully, then re-raises the SIGTERM it caught
    assert codes == {"edge": -signal.SIGTERM, "crash": 3}
    assert "Application shutdown complete" in (tmp_path / "edge.log").read_text()


async def test_mindlinks_local_starts_the_infrastructure_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    """``--only ''``: AWS, Redis and the edge, no services — the whole
    start/ready/stop path of the command without the fleet's start-up time."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mindlinks_dev.runner",
        "--only",
        "",
        "--edge-port",
        str(free_port()),
        "--run-dir",
        str(tmp_path),
        "--ready-timeout",
        "60",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        while not lines or lines[-1] not in ("all parts ready", "<exited>"):
            line = await asyncio.wait_for(process.stdout.readline(), timeout=120)
            lines.append(line.decode().strip() if line else "<exited>")
        assert lines[-1] == "all parts ready", "\n".join(lines)
        state = json.loads((tmp_path / "state.json").read_text())
        assert state["status"] == "ready"
        assert set(state["parts"]) == {"edge"}
        assert state["aws"]["prefix"] == "mindlinks-local-"
        assert (tmp_path / "mailbox").is_dir()
        assert (tmp_path / "edge.log").exists()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        output = await asyncio.wait_for(process.stdout.read(), timeout=60)
        code = await process.wait()
    assert code == 0, output.decode()
    assert not (tmp_path / "state.json").exists()


async def test_supervisor_restarts_a_part_that_dies_with_a_growing_pause(tmp_path: Path) -> None:
    """kill -9 of a running part: the supervisor starts it again, appends to
    its log, and backs off when it keeps dying."""
    edge = _edge_part(tmp_path)
    supervisor = Supervisor()
    await supervisor.start(edge)
    stop = asyncio.Event()
    reports: list[str] = []
    restarted = asyncio.Event()
    watching = asyncio.create_task(
        supervisor.watch(stop, reports.append, on_restart=lambda _: restarted.set())
    )
    try:
        assert (await supervisor.wait_ready([edge], timeout=60)) == {"edge": "ready"}
        first = supervisor.processes["edge"].pid
        os.kill(first, signal.SIGKILL)
        await asyncio.wait_for(restarted.wait(), timeout=30)
        assert (await supervisor.wait_ready([edge], timeout=60)) == {"edge": "ready"}
        [restart] = supervisor.restarts
        assert (restart.name, restart.code) == ("edge", -signal.SIGKILL)
        assert restart.pid == supervisor.processes["edge"].pid != first
        assert reports == ["edge exited with code -9; restarting in 0.5s"]
        # It died again soon after its start: the pause doubles.
        assert supervisor._next_pause("edge") == 1.0
    finally:
        stop.set()
        await watching
        await supervisor.stop()
    assert (tmp_path / "edge.log").read_text().count("Application startup complete") == 2


async def test_supervisor_without_restart_only_reports(tmp_path: Path) -> None:
    crash = Part(
        "crash",
        "http://127.0.0.1:9",
        "/health/ready",
        (sys.executable, "-c", "import time; time.sleep(0.3); raise SystemExit(3)"),
        dict(os.environ),
        tmp_path / "crash.log",
    )
    supervisor = Supervisor(restart=False)
    await supervisor.start(crash)
    stop = asyncio.Event()
    reports: list[str] = []
    watching = asyncio.create_task(supervisor.watch(stop, reports.append))
    for _ in range(100):
        if reports:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await watching
    assert reports == ["crash exited with code 3; see its log"]
    assert supervisor.restarts == []


def test_without_processes_one_host_serves_the_edge_and_the_services(tmp_path: Path) -> None:
    plan = plan_services(
        FLEET, {"auth": "mindlinks_auth.app:create", "user": "mindlinks_user.app:create"}
    )
    host = plan_host(plan, run_dir=tmp_path, edge_port=8080, env={"A": "1"}, port_offset=100)
    assert (host.name, host.env, host.log) == ("host", {"A": "1"}, tmp_path / "host.log")
    assert [(e.name, e.url, e.probe, e.log) for e in host.endpoints] == [
        ("edge", "http://127.0.0.1:8080", "/health/live", tmp_path / "edge.log"),
        ("auth", "http://127.0.0.1:3101", "/health/ready", tmp_path / "auth.log"),
        ("user", "http://127.0.0.1:3102", "/health/ready", tmp_path / "user.log"),
    ]
    assert host.command[:3] == (sys.executable, "-m", "mindlinks_dev.host")
    options = " ".join(host.command[3:])
    assert f"--serve edge 8080 {EDGE_TARGET}" in options
    assert "--serve auth 3101 mindlinks_auth.app:create" in options
    assert "--serve user 3102 mindlinks_user.app:create" in options
    assert f"--after {tmp_path / AWS_READY}" in options
    assert "--access-log" not in options  # the edge writes its own


def _two_edges_in_one_host(tmp_path: Path) -> Part:
    """The fleet host serving two edges (no services behind them): a real
    host part that starts fast."""
    serves = tuple(
        Endpoint(name, f"http://127.0.0.1:{port}", "/health/live", tmp_path / f"{name}.log")
        for name, port in (("edge", free_port()), ("edge2", free_port()))
    )
    command = [sys.executable, "-m", "mindlinks_dev.host", "--log-dir", str(tmp_path)]
    for endpoint in serves:
        command += ["--serve", endpoint.name, endpoint.url.rsplit(":", 1)[1], EDGE_TARGET]
    env = {**os.environ, "MINDLINKS_EDGE_SERVICES": ""}
    first = serves[0]
    return Part("host", first.url, first.probe, tuple(command), env, tmp_path / "host.log", serves)


async def test_supervisor_probes_each_app_of_a_host_and_restarts_the_host(tmp_path: Path) -> None:
    host = _two_edges_in_one_host(tmp_path)
    supervisor = Supervisor()
    await supervisor.start(host)
    stop = asyncio.Event()
    restarted = asyncio.Event()
    watching = asyncio.create_task(
        supervisor.watch(stop, lambda _: None, on_restart=lambda _: restarted.set())
    )
    try:
        assert await supervisor.wait_ready([host], timeout=60) == {
            "edge": "ready",
            "edge2": "ready",
        }
        os.kill(supervisor.processes["host"].pid, signal.SIGKILL)
        await asyncio.wait_for(restarted.wait(), timeout=30)
        assert await supervisor.wait_ready([host], timeout=60) == {
            "edge": "ready",
            "edge2": "ready",
        }
    finally:
        stop.set()
        await watching
        codes = await supervisor.stop()
    assert codes == {"host": 0}  # the host stops every app itself on SIGTERM
    for name in ("edge", "edge2"):
        log = (tmp_path / f"{name}.log").read_text()
        assert log.count("Application startup complete") == 2  # appended across the restart
        assert "Application shutdown complete" in log


async def test_mindlinks_local_processes_runs_each_part_as_its_own_process(
    tmp_path: Path,
) -> None:
    """``--processes --only ''``: the edge as its own uvicorn process."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    edge_port = free_port()
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "mindlinks_dev.runner", "--processes", "--only", ""),
        *("--edge-port", str(edge_port), "--run-dir", str(tmp_path)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    assert process.stdout is not None
    try:
        output = await asyncio.wait_for(_until_ready(process.stdout), timeout=120)
        assert output[-1] == "all parts ready", "\n".join(output)
        assert "starting 0 services and the edge …" in output
        state = json.loads((tmp_path / "state.json").read_text())
        [edge] = state["parts"].values()
        command = _command_of(edge["pid"])
        assert "uvicorn" in command
        assert EDGE_TARGET in command
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.stdout.read(), timeout=60)
        code = await process.wait()
    assert code == 0


def _command_of(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


async def _until_ready(stream: asyncio.StreamReader) -> list[str]:
    lines: list[str] = []
    while not lines or lines[-1] not in ("all parts ready", "<exited>"):
        line = await stream.readline()
        lines.append(line.decode().strip() if line else "<exited>")
    return lines


def test_the_clock_command_moves_the_fleet_clock_that_services_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock_file = tmp_path / "clock"
    env = service_environment(
        {},
        aws_endpoint="http://127.0.0.1:5000",
        redis_url="redis://127.0.0.1:7000/0",
        mailbox=tmp_path / "mailbox",
        public_url="http://localhost:8080",
        clock_file=clock_file,
    )
    assert env[clock.CLOCK_FILE] == str(clock_file)
    assert main(["clock", "advance", "14d", "--run-dir", str(tmp_path)]) == 0
    assert main(["clock", "advance", "12h", "--run-dir", str(tmp_path)]) == 0
    assert float(clock_file.read_text()) == 14.5 * 86400
    assert "+14.500 days" in capsys.readouterr().out
    monkeypatch.setenv(clock.CLOCK_FILE, env[clock.CLOCK_FILE])
    monkeypatch.setenv("MINDLINKS_ENVIRONMENT", "local")
    ahead = clock.now() - datetime.now(UTC)
    assert timedelta(days=14.5) - timedelta(seconds=5) < ahead < timedelta(days=14.5, seconds=5)
    assert main(["clock", "reset", "--run-dir", str(tmp_path)]) == 0
    assert not clock_file.exists()
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
    with pytest.raises(SystemExit):
        main(["clock", "advance", "soon", "--run-dir", str(tmp_path)])
