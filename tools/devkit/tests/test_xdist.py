"""The suite under pytest-xdist: each worker's own Redis database, and the
scheduler that hands out whole modules and whole groups, groups first."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from mindlinks_dev.pytest_plugin import worker_index, worker_redis_url
from mindlinks_dev.xdist_schedule import ModulesAndGroups


def test_each_worker_has_its_own_redis_database() -> None:
    assert worker_redis_url("redis://127.0.0.1:6379/9", 0) == "redis://127.0.0.1:6379/9"
    assert worker_redis_url("redis://127.0.0.1:6379/9", 1) == "redis://127.0.0.1:6379/10"
    assert worker_redis_url("redis://127.0.0.1:6379/11", 1) == "redis://127.0.0.1:6379/12"
    assert worker_redis_url("redis://127.0.0.1:6379", 2) == "redis://127.0.0.1:6379/2"
    # Past the last database, the base one (keys are namespaced per session).
    assert worker_redis_url("redis://127.0.0.1:6379/9", 7) == "redis://127.0.0.1:6379/9"


def test_the_worker_index_is_read_from_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    assert worker_index() == 3
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    assert worker_index() == 0


class Worker:
    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down = False
        self.sent: list[list[int]] = []

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent.append(list(indices))

    def shutdown(self) -> None:
        self.shutting_down = True


def test_whole_modules_and_whole_groups_go_to_a_worker_groups_first() -> None:
    ids = [
        *(f"libs/a/test_small.py::test_{i}" for i in range(3)),
        *(f"tools/test_big.py::test_{i}[x@y]" for i in range(9)),
        *(f"tests/e2e/test_one.py::test_{i}" for i in range(2)),
        *(f"tests/e2e/test_two.py::test_{i}" for i in range(2)),
    ]
    option = SimpleNamespace(loadscopereorder=True)
    config: Any = SimpleNamespace(option=option, getvalue=lambda name: ["2*popen"])
    scheduler = ModulesAndGroups(config, groups=["tests/e2e"])
    first, second = Worker("gw0"), Worker("gw1")
    for worker in (first, second):
        scheduler.add_node(worker)
        scheduler.add_node_collection(worker, ids)
    scheduler.schedule()

    def units(worker: Worker) -> list[set[str]]:
        return [{ids[i].split("::")[0] for i in batch} for batch in worker.sent]

    assert units(first)[0] == {"tests/e2e/test_one.py", "tests/e2e/test_two.py"}
    assert units(second)[0] == {"tools/test_big.py"}  # then the most tests first
    assert len(first.sent[0]) == 4
    assert len(second.sent[0]) == 9
