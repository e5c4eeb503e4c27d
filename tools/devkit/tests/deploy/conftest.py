"""Fixtures of the deployment checks: the repository and its parsed Terraform."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mindlinks_dev.deploy import checks
from mindlinks_dev.openapi import repo_root


@pytest.fixture(scope="session")
def root() -> Path:
    return repo_root(Path(__file__).resolve().parent)


@pytest.fixture(scope="session")
def terraform_root(root: Path) -> Path:
    return root / "infra" / "terraform"


@pytest.fixture(scope="session")
def tree(terraform_root: Path) -> checks.Tree:
    return checks.parse_tree(terraform_root)


@pytest.fixture
def terraform_copy(terraform_root: Path, tmp_path: Path) -> Path:
    """A copy of infra/terraform (symlinks kept) to plant defects in."""
    copy = tmp_path / "terraform"
    shutil.copytree(
        terraform_root, copy, symlinks=True, ignore=shutil.ignore_patterns(".terraform")
    )
    return copy


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def remove_block(path: Path, header: str) -> None:
    """Cut a top-level block (``resource "t" "n" {`` ... its closing ``}``)."""
    text = path.read_text(encoding="utf-8")
    start = text.index(header)
    end = text.index("\n}\n", start) + len("\n}\n")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
