"""The bench's process measurements work, on a tiny scale (no timing asserted)."""

from __future__ import annotations

from mindlinks_dev.bench import processes


def test_bare_processes_start_answer_and_are_measured() -> None:
    started = processes.start_bare(2)
    assert started.seconds > 0
    assert len(started.rss) == 2
    assert all(rss > 10 for rss in started.rss)


def test_one_fleet_host_of_bare_apps_starts_answers_and_is_measured() -> None:
    started = processes.start_bare_host(2)
    assert started.seconds > 0
    assert len(started.rss) == 1  # one process serves both
    assert started.rss[0] > 10


def test_an_import_is_measured_in_a_fresh_interpreter_and_broken_down() -> None:
    assert processes.import_cpu("json") > 0
    breakdown = processes.import_breakdown("json")
    assert "json" in breakdown
    assert list(breakdown.values()) == sorted(breakdown.values())[::-1]
    assert processes.module_of("mindlinks_user.app:create") == "mindlinks_user.app"
