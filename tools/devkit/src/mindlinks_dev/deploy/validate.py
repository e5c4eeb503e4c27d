"""The static checks that stand in for a real account, one function per tool.

    python -m mindlinks_dev.deploy.validate     # all of them on the repository

Each returns a list of problems (empty: fine) so that the tests run them on
the committed files and on copies with planted defects alike. The tools come
from PyPI (requirements/infra.txt; checkov in its own virtualenv,
requirements/checkov.txt, because it pins boto3, networkx and packaging below
what the workspace uses):

- checkov over infra/terraform — a failure is a problem unless suppressed in
  place with ``#checkov:skip=CKV_...:reason``; a file checkov cannot parse is
  a problem too (checkov itself exits 0 then);
- hadolint on docker/Dockerfile;
- the compose-spec JSON schema and the real Compose CLI (``docker-compose
  config``, no engine needed) on docker-compose.yml;
- the github-workflows JSON schema on .github/workflows/*.yml, and the
  dependabot schema on .github/dependabot.yml.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from mindlinks_dev.openapi import repo_root

CHECKOV_ENV = "MINDLINKS_CHECKOV"
CHECKOV_VENV = Path(".venv/tools/checkov/bin/checkov")
TIMEOUT = 600


class ToolMissing(RuntimeError):
    """A validation tool is not installed (see requirements/infra.txt)."""


def _bin(name: str) -> str:
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise ToolMissing(f"{name} is not installed: install requirements/infra.txt")
    return found


def checkov_binary(root: Path) -> str:
    configured = os.environ.get(CHECKOV_ENV)
    if configured:
        return configured
    local = root / CHECKOV_VENV
    if local.is_file():
        return str(local.resolve())
    found = shutil.which("checkov")
    if found is None:
        raise ToolMissing(
            f"checkov is not installed: uv venv {CHECKOV_VENV.parent.parent} and install "
            f"requirements/checkov.txt into it, or set {CHECKOV_ENV}"
        )
    return found


def _run(
    command: Sequence[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own tool invocations
        list(command),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def count_hcl_files(directory: Path) -> int:
    return sum(
        1 for p in directory.rglob("*.tf") if ".terraform" not in p.parts and not p.is_symlink()
    )


def checkov_problems(directory: Path, root: Path, expect: Sequence[str] = ()) -> list[str]:
    """checkov's failed checks, and every sign that it did not read all files.

    ``expect``: resource addresses (or their ends) checkov must have checked.
    When it cannot evaluate a module's ``for_each`` (a reference it takes for a
    cycle is enough) it drops those resources without a word and passes."""
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_NO_TELEMETRY": "1"}
    result = _run(
        [
            checkov_binary(root),
            "--directory",
            str(directory),
            "--framework",
            "terraform",
            "--output",
            "json",
            "--compact",
            "--skip-download",
        ],
        cwd=directory,
        env=env,
    )
    try:
        reports = json.loads(result.stdout)
    except json.JSONDecodeError:
        return [f"checkov gave no report (exit {result.returncode}): {result.stderr[-2000:]}"]
    reports = reports if isinstance(reports, list) else [reports]
    found: list[str] = []
    parsed = 0
    checked: set[str] = set()
    for report in reports:
        for kind in ("passed_checks", "failed_checks", "skipped_checks"):
            checked.update(c["resource"] for c in report.get("results", {}).get(kind, []))
        summary = report.get("summary", {})
        if summary.get("parsing_errors"):
            errors = report.get("results", {}).get("parsing_errors", [])
            found.append(f"checkov could not parse {summary['parsing_errors']} file(s): {errors}")
        for failure in report.get("results", {}).get("failed_checks", []):
            found.append(
                f"{failure['check_id']} {failure['resource']} "
                f"({failure['file_path']}:{failure['file_line_range'][0]}): {failure['check_name']}"
            )
        if summary.get("resource_count", 0) == 0:
            found.append("checkov found no resources")
        parsed += 1
    if not parsed:
        found.append("checkov produced no terraform report")
    for resource in expect:
        if not any(address.endswith(resource) for address in checked):
            found.append(f"checkov did not check {resource}")
    if "parsing error" in result.stderr.lower() or "failed to parse" in result.stderr.lower():
        found.append(f"checkov reported a parse failure: {result.stderr[-2000:]}")
    return found


def checkov_expected(terraform_root: Path) -> list[str]:
    """Resources checkov must have checked in infra/terraform: one per generated
    bucket and log group (the for_each it can lose), and the platform's
    guards (network ACLs, trail, backup vault, the service module)."""
    variables = json.loads((terraform_root / "fleet.auto.tfvars.json").read_text(encoding="utf-8"))
    return [
        *(f'module.data.aws_s3_bucket.this["{bucket}"]' for bucket in variables["buckets"]),
        *(f'aws_cloudwatch_log_group.service["{service}"]' for service in variables["services"]),
        "module.network.aws_network_acl.public",
        "module.network.aws_network_acl.private",
        "module.audit.aws_cloudtrail.this",
        "module.audit.aws_s3_bucket.trail",
        "module.backup.aws_backup_vault.this",
        "module.service.aws_ecs_task_definition.this",
        "module.service.aws_iam_role_policy.task",
    ]


def hadolint_problems(dockerfile: Path) -> list[str]:
    result = _run(
        [_bin("hadolint"), "--no-color", "--format", "json", str(dockerfile)], dockerfile.parent
    )
    try:
        findings = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        return [f"hadolint failed: {result.stdout}{result.stderr}"]
    problems = [f"{f['code']} line {f['line']}: {f['message']}" for f in findings]
    if result.returncode and not problems:
        problems.append(f"hadolint exit {result.returncode}: {result.stderr}")
    return problems


def schema_problems(schema: str, files: Sequence[Path]) -> list[str]:
    """check-jsonschema with one of its vendored schemas (no download)."""
    result = _run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        Path.cwd(),
    )
    if result.returncode == 0:
        return []
    return [f"{schema}: {result.stdout}{result.stderr}".strip()]


def compose_config_problems(compose: Path, env: dict[str, str]) -> list[str]:
    """The real Compose CLI resolves and validates the file (no engine needed)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MINDLINKS_")}
    result = _run(
        [_bin("docker-compose"), "--file", str(compose), "config", "--quiet"],
        compose.parent,
        env={**clean, **env},
    )
    if result.returncode == 0:
        return []
    return [f"docker-compose config: {result.stdout}{result.stderr}".strip()]


def workflow_files(root: Path) -> list[Path]:
    return sorted((root / ".github" / "workflows").glob("*.yml"))


def main(argv: Sequence[str] | None = None) -> int:
    root = repo_root(Path.cwd())
    compose = root / "docker-compose.yml"
    checks: dict[str, Callable[[], list[str]]] = {
        "checkov": lambda: checkov_problems(
            root / "infra" / "terraform", root, checkov_expected(root / "infra" / "terraform")
        ),
        "hadolint": lambda: hadolint_problems(root / "docker" / "Dockerfile"),
        "compose schema": lambda: schema_problems("vendor.compose-spec", [compose]),
        "compose config": lambda: compose_config_problems(
            compose, {"MINDLINKS_CURSOR_SECRET": "validate"}
        ),
        "workflows": lambda: schema_problems("vendor.github-workflows", workflow_files(root)),
        "dependabot": lambda: schema_problems(
            "vendor.dependabot", [root / ".github" / "dependabot.yml"]
        ),
    }
    failed = False
    for name, check in checks.items():
        problems = check()
        print(f"{name}: {'ok' if not problems else 'FAILED'}")
        for problem in problems:
            print(f"  {problem}")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
