"""Documents generated from the code are committed; they must match it:
the merged OpenAPI the dashboards generate clients from (``docs/openapi.json``)
and the README's API map and event catalog."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mindlinks_dev.openapi import repo_root


@pytest.mark.parametrize(
    ("module", "fix"),
    [("mindlinks_dev.openapi", "make openapi"), ("mindlinks_dev.catalog", "make docs")],
)
def test_committed_documents_match_the_code(module: str, fix: str) -> None:
    root = repo_root(Path.cwd())
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDLINKS_")}
    result = subprocess.run(
        [sys.executable, "-m", module, "--check"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        f"out of date: run `{fix}` and commit\n" + result.stdout + result.stderr
    )


def test_import_contracts_name_every_package() -> None:
    """import-linter's package lists are written by hand in the root
    pyproject: every service package must be in each of them, and every tool
    must be forbidden to the services (a new service cannot slip past)."""
    import tomllib

    from mindlinks_dev.harness import installed_services

    root = repo_root(Path.cwd())
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["importlinter"]
    services = {f"mindlinks_{name}" for name in installed_services()}
    tools = {p.name for p in (root / "tools").glob("*/src/mindlinks_*")}
    assert services | tools | {"mindlinks_kit", "mindlinks_fleet"} == set(config["root_packages"])
    contracts = {c["name"]: c for c in config["contracts"]}
    independent = next(c for c in contracts.values() if c["type"] == "independence")
    assert set(independent["modules"]) == services
    for contract in contracts.values():
        if contract["type"] == "forbidden" and contract["source_modules"] != ["mindlinks_kit"]:
            if set(contract["source_modules"]) == services:
                assert tools <= set(contract["forbidden_modules"])
            else:
                assert services <= set(contract["forbidden_modules"])
        elif contract["type"] == "forbidden":
            assert services | tools <= set(contract["forbidden_modules"])
