"""docker-compose.yml against the compose specification and the real Compose CLI."""

from __future__ import annotations

from pathlib import Path

from mindlinks_dev.deploy import validate


def test_compose_file_matches_the_compose_spec(root: Path) -> None:
    assert validate.schema_problems("vendor.compose-spec", [root / "docker-compose.yml"]) == []


def test_compose_cli_accepts_it(root: Path) -> None:
    env = {"MINDLINKS_CURSOR_SECRET": "a-test-value"}
    assert validate.compose_config_problems(root / "docker-compose.yml", env) == []


def test_compose_refuses_to_start_without_the_cursor_secret(root: Path) -> None:
    problems = validate.compose_config_problems(root / "docker-compose.yml", {})
    assert problems
    assert "MINDLINKS_CURSOR_SECRET" in problems[0]
