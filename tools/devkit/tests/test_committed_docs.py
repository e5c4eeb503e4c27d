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
