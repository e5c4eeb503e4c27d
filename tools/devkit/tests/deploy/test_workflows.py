"""The GitHub workflows: valid, keyless, and doing what the release process says."""

from __future__ import annotations

import fnmatch
import json
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from mindlinks_dev.deploy import checks, pipeline, target, validate


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
    assert "workflow_call" in triggers
    jobs = ci["jobs"]
    assert "redis" in jobs["tests"]["services"]
    assert "@sha256:" in jobs["tests"]["services"]["redis"]["image"]
    steps = " ".join(str(s.get("run", "")) for job in jobs.values() for s in job.get("steps", []))
    for command in (
        "make check",
        "make pytest",
        "pip-audit --strict",
        "--requirement constraints.txt",
        "mindlinks_dev.deploy.validate",
        "mindlinks_dev.deploy.hclfmt",
        "terraform fmt -check",
        'terraform -chdir="${root}" validate',
        "docker buildx build",
    ):
        assert command in steps
    assert "fromJSON(needs.images-matrix.outputs.matrix)" in str(
        jobs["images"]["strategy"]["matrix"]
    )


def test_the_pipeline_keeps_its_rules(root: Path) -> None:
    """CI gates every deploy; one run per environment; plan read-only, apply
    the reviewed plan; Trivy before every push; actions pinned; one rollout
    job per service (mindlinks_dev.deploy.pipeline)."""
    assert pipeline.problems(_load(root, "ci.yml"), _load(root, "deploy.yml")) == []


def test_deploy_targets_and_oidc(root: Path) -> None:
    deploy = _load(root, "deploy.yml")
    assert deploy[True]["push"] == {"branches": ["main", "release/**"], "tags": ["v*"]}
    assert "id-token" not in deploy["permissions"]
    text = (root / ".github" / "workflows" / "deploy.yml").read_text()
    assert "role-to-assume" in text
    for forbidden in ("aws-access-key-id", "AWS_ACCESS_KEY_ID", "aws-secret-access-key"):
        assert forbidden not in text
    jobs = deploy["jobs"]
    assert jobs["ci"]["uses"] == "./.github/workflows/ci.yml"
    assert jobs["plan"].get("environment") is None
    environment = "${{ needs.target.outputs.environment }}"
    assert jobs["apply"]["environment"] == jobs["services"]["environment"] == environment
    assert "mindlinks_dev.deploy.target" in str(jobs["target"]["steps"])
    assert "deploy-service.sh" in str(jobs["services"]["steps"])
    assert jobs["e2e"]["if"] == "startsWith(github.ref, 'refs/heads/release/')"


def test_every_ref_the_workflow_takes_has_one_environment(root: Path) -> None:
    deploy = _load(root, "deploy.yml")
    push = deploy[True]["push"]
    samples = {"main": "dev", "release/2026.12": "staging", "release/a/b": "staging"}
    for branch, environment in samples.items():
        assert any(fnmatch.fnmatch(branch, f.replace("**", "*")) for f in push["branches"])
        assert target.environment_of(f"refs/heads/{branch}") == environment
    assert target.environment_of("refs/tags/v1.4.0") == "prod"
    assert target.environment_of("refs/heads/feature/x") is None
    assert target.environment_of("refs/tags/1.4.0") is None


def test_target_follows_the_environments_tfvars(root: Path) -> None:
    for environment in target.REFS:
        path = root / "infra" / "terraform" / "envs" / environment / "terraform.tfvars"
        with path.open(encoding="utf-8") as file:
            values = checks.unquote(hcl2.load(file))
        found = target.target(environment, root)
        assert (found.account_id, found.prefix, found.domain_name) == (
            values["account_id"],
            values["resource_prefix"],
            values["domain_name"],
        )
        # bootstrap names the roles <name>-plan and -deploy, name = prefix without "-"
        assert values["resource_prefix"] == f"mindlinks-{environment}-"
        outputs = found.outputs(root)
        account = values["account_id"]
        assert outputs["plan-role"] == f"arn:aws:iam::{account}:role/mindlinks-{environment}-plan"
        assert (
            outputs["deploy-role"] == f"arn:aws:iam::{account}:role/mindlinks-{environment}-deploy"
        )
        assert outputs["api-url"] == f"https://{values['domain_name']}"
        assert json.loads(outputs["matrix"])["include"]


def test_target_cli_writes_github_outputs(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert target.main(["refs/tags/v2.0.0"]) == 0
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert lines["environment"] == "prod"
    assert lines["name"] == "mindlinks-prod"
    with pytest.raises(SystemExit):
        target.main(["refs/heads/feature"])


def test_dependabot_watches_what_is_pinned(root: Path) -> None:
    path = root / ".github" / "dependabot.yml"
    assert validate.schema_problems("vendor.dependabot", [path]) == []
    updates = {
        (u["package-ecosystem"], u["directory"])
        for u in yaml.safe_load(path.read_text())["updates"]
    }
    assert {("docker", "/docker"), ("github-actions", "/"), ("pip", "/requirements")} <= updates


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
