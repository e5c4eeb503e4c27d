"""The dashboards' client, `@mindlinks/api`, tells the whole `make demo`
story against the fleet through the edge (`clients/typescript/examples/
lifecycle.ts`): the OpenAPI it is generated from is exact enough to run the
product without a cast."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from mindlinks_dev.openapi import repo_root
from mindlinks_dev.sdk import PACKAGE, compiled, node, run_node

ROOT = repo_root(Path.cwd())


def test_the_lifecycle_story_runs_through_the_typescript_client(edge: httpx.Client) -> None:
    if node() is None or not (ROOT / PACKAGE / "node_modules/.bin/tsc").exists():
        pytest.fail("the TypeScript client's tools are not installed: run `make sdk`")
    with compiled(ROOT) as build:
        told = run_node(
            "node",
            str(build / "examples/lifecycle.js"),
            root=ROOT,
            timeout=240,
            env={"MINDLINKS_BASE_URL": str(edge.base_url).rstrip("/")},
        )
    assert told.returncode == 0, told.stdout + told.stderr
    steps = re.findall(r"^\s*\d+\. (.*)$", told.stdout, flags=re.MULTILINE)
    assert "client confirmed a one-time code and signed" in steps
    assert "contractor confirmed a one-time code and signed" in steps
    assert "the ledger recorded the activation; the contract is active" in steps
    assert any(s.startswith("escrow released to the contractor: released") for s in steps)
    assert any(s.startswith("a stranger is refused: 404 contract-not-found") for s in steps)
    contract_id = re.search(r"contract (\w+) is active", told.stdout)
    assert contract_id is not None
