"""The GitHub workflows: valid, keyless, and doing what the release process says."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from mindlinks_dev.deploy import validate


def _load(root: Path, name: str) -> dict[Any, Any]:
    document: dict[Any, Any] = yaml.safe_load((root / ".github" / "workflows" / name).read_text())
    return document


def test_workflows_match_the_github_schema(root: Path) -> None:
    files = validate.workflow_files(root)
    assert {f.name for f in files} == {"ci.yml", "deploy.yml"}
    assert validate.schema_problems("vendor.github-workflows", files) == []


def test_ci_runs_every_check(root: Path) -> None:
    ci = _load(root, "ci.yml")
    triggers = ci[True]  # YAML 1.1 reads the key `on` as True
    assert "pull_request" in triggers
    assert triggers["push"]["branches"] == ["main"]
    jobs = ci["jobs"]
    assert "redis" in jobs["tests"]["services"]
    steps = " ".join(str(s.get("run", "")) for job in jobs.values() for s in job.get("steps", []))
    for command in (
        "make check",
        "make pytest",
        "pip-audit --strict",
        "mindlinks_dev.deploy.validate",
        "mindlinks_dev.deploy.hclfmt",
        "docker buildx build",
    ):
        assert command in steps
    assert "fromJSON(needs.images-matrix.outputs.matrix)" in str(
        jobs["images"]["strategy"]["matrix"]
    )


def test_deploy_targets_and_oidc(root: Path) -> None:
    deploy = _load(root, "deploy.yml")
    assert deploy[True]["push"] == {"branches": ["main", "release/**"], "tags": ["v*"]}
    assert deploy["permissions"]["id-token"] == "write"
    text = (root / ".github" / "workflows" / "deploy.yml").read_text()
    assert "role-to-assume" in text
    for forbidden in (
        "aws-access-key-id",
        "AWS_ACCESS_KEY_ID",
        "aws-secret-access-key",
        "secrets.AWS",
    ):
        assert forbidden not in text
    pick = next(s["run"] for s in deploy["jobs"]["target"]["steps"] if s.get("id") == "pick")
    assert 'refs/heads/main) echo "environment=dev"' in pick
    assert 'refs/heads/release/*) echo "environment=staging"' in pick
    assert 'refs/tags/v*) echo "environment=prod"' in pick
    assert deploy["jobs"]["e2e"]["environment"] == "staging"
    assert "deploy-service.sh" in str(deploy["jobs"]["services"]["steps"])


def test_deploy_script_rolls_back_on_failed_smoke_tests(root: Path) -> None:
    script = root / "infra" / "scripts" / "deploy-service.sh"
    text = script.read_text()
    assert "mindlinks_dev.deploy.smoke" in text
    assert "stop-service-deployment" in text
    assert "--stop-type ROLLBACK" in text
    for path in sorted((root / "infra" / "scripts").glob("*.sh")):
        run = subprocess.run(
            [validate._bin("shellcheck"), str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, run.stdout
