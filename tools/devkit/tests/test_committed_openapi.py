"""The merged OpenAPI the dashboards generate clients from is committed as
``docs/openapi.json``; it must match the code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mindlinks_dev.openapi import repo_root


def test_committed_openapi_matches_the_code() -> None:
    root = repo_root(Path.cwd())
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDLINKS_")}
    result = subprocess.run(
        [sys.executable, "-m", "mindlinks_dev.openapi", "--check"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        "docs/openapi.json is out of date: run `make openapi` and commit it\n"
        + result.stdout
        + result.stderr
    )
