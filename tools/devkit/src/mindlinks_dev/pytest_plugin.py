"""pytest plugin: the real parts every test talks to.

- one moto server per test session, over HTTP, with the whole fleet
  bootstrapped under a unique prefix;
- the real Redis (``MINDLINKS_TEST_REDIS_URL``, default database 9 of
  127.0.0.1:6379 — never the local runner's; xdist's worker k uses the
  database k after it);
- ``start_services``: real service apps in-process, peers wired by ASGI;
- ``fleet_clock``: the fleet's clock, moved forward by a test (every app
  of the session reads ``MINDLINKS_CLOCK_FILE``) and back after it;
- ``outside`` and ``http``: the outside world's HTTP boundary (respx) and a
  plain client, for the tests of an adapter to an outside service;
- the permission check: every AWS call a service makes in the session, in
  process or in a fleet the session starts, is recorded
  (``MINDLINKS_AWS_CALL_LOG``) and held against its task role at the end
  (``mindlinks_dev.iam``); a call the role refuses fails the session;
- under pytest-xdist (``make pytest``: ``-n auto --dist loadgroup``), every
  session-scoped part above is per worker (its own moto server on a free
  port, resource prefix, Redis database and temporary directory), and the
  work is shared out a module, or a directory of ``xdist_group_dirs``, at a
  time (``mindlinks_dev.xdist_schedule``).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from importlib.metadata import entry_points
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import redis
import respx

from mindlinks_dev.bootstrap import Bootstrapped, bootstrap
from mindlinks_dev.embedded import aws_environment, moto_server
from mindlinks_dev.harness import ENTRY_POINT_GROUP, Running, installed_services, run_services
from mindlinks_dev.iam.calls import read_calls
from mindlinks_dev.iam.check import check, report, unused_lines
from mindlinks_fleet import FLEET
from mindlinks_kit import clock

DEFAULT_TEST_REDIS = "redis://127.0.0.1:6379/9"
TEST_FLEET_DEADLINE_SECONDS = 5.0
"""The admin's fleet view in tests waits this long for each probe (1.5 s in a
deployment): the suite's in-process fleet shares two cores with another
xdist worker and its emulator, and a healthy service missing 1.5 s there
says nothing about the service."""
REDIS_DATABASES = 16
"""redis-server's default ``databases``."""
CALL_LOG = "MINDLINKS_AWS_CALL_LOG"
CALL_LOG_KEY = pytest.StashKey[str]()
IAM_REPORT_KEY = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "xdist_group_dirs",
        "directories whose tests one xdist worker runs together (a fleet they share)",
        type="linelist",
        default=[],
    )


def pytest_configure(config: pytest.Config) -> None:
    """Record the session's AWS calls (a worker inherits its controller's log)."""
    if hasattr(config, "workerinput") or CALL_LOG in os.environ:
        return
    directory = config.rootpath / ".run" / "aws-calls" / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    os.environ[CALL_LOG] = str(directory)
    config.stash[CALL_LOG_KEY] = str(directory)


def _whole_suite(config: pytest.Config) -> bool:
    return (
        config.args_source == pytest.Config.ArgsSource.TESTPATHS
        and not config.option.keyword
        and not config.option.markexpr
    )


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    directory = session.config.stash.get(CALL_LOG_KEY, None)
    if directory is None or not os.path.isdir(directory):
        return
    findings = check(FLEET, read_calls(Path(directory), FLEET.name))
    whole = _whole_suite(session.config)
    text = report(FLEET, findings, with_unused=whole)
    if whole:
        listed = session.config.rootpath / ".run" / "iam-unused.txt"
        listed.write_text("\n".join(unused_lines(FLEET, findings)) + "\n", encoding="utf-8")
        text += f"\n(the unused grants, one per line: {listed})"
    session.config.stash[IAM_REPORT_KEY] = text
    if findings.ok:
        shutil.rmtree(directory, ignore_errors=True)
    else:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    text = config.stash.get(IAM_REPORT_KEY, None)
    if text is not None:
        terminalreporter.section("IAM: the task roles against the calls")
        terminalreporter.write_line(text)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``--dist loadgroup``: whole modules and whole groups to a worker."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from mindlinks_dev.xdist_schedule import ModulesAndGroups  # xdist is installed: it asks

    return ModulesAndGroups(config, log, groups=config.getini("xdist_group_dirs"))


def worker_index() -> int:
    """This process's pytest-xdist worker number (``gw1`` → 1); 0 without xdist."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def worker_redis_url(base: str, worker: int) -> str:
    """Worker k's database: the base's number plus k. Keys are namespaced by
    each session's resource prefix, so past the last database a worker
    shares the base's rather than wrap onto another's (database 0 is often
    someone's)."""
    parts = urlsplit(base)
    database = int(parts.path.strip("/") or 0) + worker
    if database >= REDIS_DATABASES:
        return base
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def test_redis_url() -> str:
    """Not flushed: concurrent test sessions share it, and every key a service
    writes is namespaced by the session's unique resource prefix."""
    base = os.environ.get("MINDLINKS_TEST_REDIS_URL", DEFAULT_TEST_REDIS)
    url = worker_redis_url(base, worker_index())
    redis.Redis.from_url(url).ping()
    return url


@pytest.fixture(scope="session")
def fleet_resources(
    aws_endpoint: str, test_redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Bootstrapped]:
    """The whole fleet's resources, and the environment every app reads."""
    prefix = f"t{uuid.uuid4().hex[:8]}-"
    resources = bootstrap(FLEET, endpoint_url=aws_endpoint, prefix=prefix)
    env = {
        **aws_environment(aws_endpoint),
        "MINDLINKS_ENVIRONMENT": "test",
        "MINDLINKS_RESOURCE_PREFIX": prefix,
        "MINDLINKS_REDIS_URL": test_redis_url,
        "MINDLINKS_BACKGROUND_WORKERS": "false",
        "MINDLINKS_RELAY_INTERVAL_SECONDS": "3600",
        "MINDLINKS_HTTP_ATTEMPTS": "2",
        "MINDLINKS_LOG_LEVEL": "WARNING",
        "MINDLINKS_MAILBOX_DIR": str(tmp_path_factory.mktemp("mailbox")),
        "MINDLINKS_FLEET_DEADLINE_SECONDS": str(TEST_FLEET_DEADLINE_SECONDS),
        clock.CLOCK_FILE: str(tmp_path_factory.mktemp("clock") / "offset"),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield resources
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


class FleetClock:
    """The session's clock file: ``advance("14d")`` moves every app's
    ``mindlinks_kit.clock.now()`` forward."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def advance(self, by: str | float) -> float:
        """Forward by seconds or a duration (``14d``); returns the offset."""
        seconds = clock.parse_duration(by) if isinstance(by, str) else float(by)
        return clock.advance(self.path, seconds)

    def reset(self) -> None:
        self.path.unlink(missing_ok=True)


@pytest.fixture
def fleet_clock(fleet_resources: Bootstrapped) -> Iterator[FleetClock]:
    """The fleet's clock for one test, set back to the real time after it."""
    moved = FleetClock(Path(os.environ[clock.CLOCK_FILE]))
    moved.reset()
    yield moved
    moved.reset()


StartServices = Callable[..., AbstractAsyncContextManager[Running]]


@pytest.fixture(scope="session")
def start_services(fleet_resources: Bootstrapped) -> StartServices:
    """``async with start_services("auth", "user") as fleet:`` — real apps, wired."""
    # Loaded by name when started: one service's tests never import another's code.
    points = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}

    def start(*names: str) -> AbstractAsyncContextManager[Running]:
        missing = [n for n in names if n not in points]
        if missing:
            raise LookupError(f"services not installed: {missing}")
        return run_services({n: points[n].load() for n in names})

    return start


@pytest.fixture(scope="session")
async def platform(start_services: StartServices) -> AsyncIterator[Running]:
    """Every installed service, started once per test session."""
    async with start_services(*installed_services()) as running:
        if "signature" in running.apps:
            # The seal's time-stamp request goes to signature's own local TSA
            # route (local mode): in process here, where nothing listens.
            running.deps("signature").sealer.timestamps.use(running.client("signature"))
        yield running


def http_boundary(base_url: str | None = None) -> respx.MockRouter:
    """An outside service's HTTP boundary (respx): a test mocks the routes it
    expects to be called; any other outbound call fails the test."""
    return respx.mock(base_url=base_url, assert_all_called=False, assert_all_mocked=True)


@pytest.fixture
def outside() -> Iterator[respx.MockRouter]:
    """The outside world's HTTP boundary for one test (``http_boundary``)."""
    with http_boundary() as router:
        yield router


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client, for an outside service's adapter under test."""
    async with httpx.AsyncClient() as client:
        yield client
