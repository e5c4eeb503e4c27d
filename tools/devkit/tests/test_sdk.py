"""The TypeScript client (``clients/typescript``): its generated types match
the committed OpenAPI, it type-checks under ``tsc --strict``, and its own
tests pass (``node --test``). The lifecycle through it runs in the end-to-end
suite (``tests/e2e/test_typescript_client.py``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mindlinks_dev.openapi import repo_root
from mindlinks_dev.sdk import (
    GENERATED,
    PACKAGE,
    compiled,
    drifted,
    idempotent_module,
    keys_optional,
    node,
    run_node,
)

ROOT = repo_root(Path.cwd())
TOOLS = ROOT / PACKAGE / "node_modules/.bin"


@pytest.fixture(scope="module")
def installed() -> None:
    if node() is None or not (TOOLS / "tsc").exists():
        pytest.fail("the TypeScript client's tools are not installed: run `make sdk`")


def test_the_committed_types_match_the_openapi(installed: None) -> None:
    assert drifted(ROOT) == [], f"{GENERATED} drifted from docs/: run `make sdk` and commit"


def test_the_client_type_checks_strictly_and_its_tests_pass(installed: None) -> None:
    checked = run_node(str(TOOLS / "tsc"), "--strict", "--noEmit", root=ROOT)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with compiled(ROOT) as build:
        tested = run_node("node", "--test", str(build / "test"), root=ROOT)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "# pass 5" in tested.stdout, tested.stdout


def test_every_idempotency_key_is_optional_for_the_client() -> None:
    spec = {
        "paths": {
            "/v1/things": {
                "post": {
                    "parameters": [
                        {"in": "header", "name": "Idempotency-Key", "required": True},
                        {"in": "header", "name": "X-Company-Id", "required": True},
                    ]
                },
                "get": {"parameters": []},
            }
        }
    }
    relaxed = keys_optional(spec)
    key, company = relaxed["paths"]["/v1/things"]["post"]["parameters"]
    assert (key["required"], company["required"]) == (False, True)
    assert spec["paths"]["/v1/things"]["post"]["parameters"][0]["required"] is True
    module = idempotent_module(spec)
    assert '["POST", "/v1/things"],' in module
    assert "GET" not in module.split("= [", 1)[1]


def test_the_lock_file_names_no_registry() -> None:
    lock = (ROOT / PACKAGE / "package-lock.json").read_text()
    assert '"resolved"' not in lock
    assert "omit-lockfile-registry-resolved=true" in (ROOT / PACKAGE / ".npmrc").read_text()


def test_the_readme_typescript_is_the_type_checked_example() -> None:
    """The README's "Try it" in TypeScript is ``examples/try-it.ts`` (which
    ``tsc --strict`` checks above), word for word."""
    readme = (ROOT / "README.md").read_text()
    (block,) = re.findall(r"```ts\n(.*?)```", readme, flags=re.DOTALL)
    example = (ROOT / PACKAGE / "examples/try-it.ts").read_text()
    assert example.endswith(block), "README's TypeScript and examples/try-it.ts differ"
