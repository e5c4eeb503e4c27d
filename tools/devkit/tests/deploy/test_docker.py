"""docker/Dockerfile: one recipe for every service, linted and held to its promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mindlinks_dev.deploy import dockerfile, validate
from mindlinks_fleet import FLEET


def test_hadolint_is_clean(root: Path) -> None:
    assert validate.hadolint_problems(root / "docker" / "Dockerfile") == []


def test_service_image_promises(root: Path) -> None:
    text = (root / "docker" / "Dockerfile").read_text(encoding="utf-8")
    assert dockerfile.problems(text) == []


def test_builder_installs_dependencies_before_code(root: Path) -> None:
    """The dependency layer is built from pyproject files and constraints
    only, so it stays cached while code changes; every library is copied."""
    steps = dockerfile.stages((root / "docker" / "Dockerfile").read_text(encoding="utf-8"))
    builder = steps["builder"].instructions
    copies = [args for keyword, args in builder if keyword == "COPY"]
    install_deps = next(
        i
        for i, (k, a) in enumerate(builder)
        if k == "RUN" and "-c constraints.txt -r requirements.txt" in a
    )
    first_code = next(
        i for i, (k, a) in enumerate(builder) if k == "COPY" and a.startswith("libs/ ")
    )
    assert install_deps < first_code
    for lib in sorted((root / "libs").glob("*/pyproject.toml")):
        relative = lib.relative_to(root).as_posix()
        assert any(c.startswith(relative) for c in copies), (
            f"{relative} is not copied before the install"
        )


def test_requirements_script_resolves_workspace_packages(root: Path) -> None:
    for service in FLEET.services:
        package = root / "services" / service.name
        if not (package / "pyproject.toml").is_file():
            continue
        run = subprocess.run(
            [sys.executable, "docker/requirements.py", "--local", f"services/{service.name}"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
        assert run.stdout.split() == ["libs/kit", "libs/fleet", f"services/{service.name}"]
        third_party = subprocess.run(
            [sys.executable, "docker/requirements.py", f"services/{service.name}"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert "fastapi" in third_party
        assert not any(r.startswith("mindlinks-") for r in third_party)


def test_dockerignore_sends_only_what_is_copied(root: Path) -> None:
    lines = (root / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert lines[lines.index("**")] == "**"
    for needed in (
        "!constraints.txt",
        "!docker/requirements.py",
        "!libs/**",
        "!services/**",
        "!tools/devkit/**",
    ):
        assert needed in lines
    for excluded in ("**/tests/**", "**/__pycache__/**"):
        assert excluded in lines
