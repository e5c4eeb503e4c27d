"""Print what one workspace package needs, for the image build (stdlib only).

    python docker/requirements.py services/auth            # third-party requirements
    python docker/requirements.py --local services/auth    # workspace package dirs

Reads the package's pyproject.toml and, through its ``[tool.uv.sources]``
workspace entries, those of the workspace libraries it uses (``libs/<name>``
for ``mindlinks-<name>``). The third-party list is installed first (pinned by
constraints.txt) so that the dependency layer is cached apart from the code.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def _project(directory: Path) -> dict[str, object]:
    with (directory / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def _workspace_dir(root: Path, name: str) -> Path:
    return root / "libs" / name.removeprefix("mindlinks-")


def walk(root: Path, package: Path) -> tuple[list[Path], list[str]]:
    """(workspace package dirs, libraries first; third-party requirements)."""
    local: list[Path] = []
    requirements: list[str] = []

    def visit(directory: Path) -> None:
        data = _project(directory)
        project = data["project"]
        assert isinstance(project, dict)
        tool = data.get("tool", {})
        assert isinstance(tool, dict)
        sources = tool.get("uv", {}).get("sources", {})
        for requirement in project.get("dependencies", []):
            match = _NAME.match(requirement)
            assert match, requirement
            name = match.group(0).lower()
            if sources.get(name, {}).get("workspace"):
                dependency = _workspace_dir(root, name)
                if dependency not in local:
                    visit(dependency)
            elif requirement not in requirements:
                requirements.append(requirement)
        if directory not in local:
            local.append(directory)

    visit(package)
    return local, requirements


def main(argv: list[str]) -> int:
    local_only = "--local" in argv
    paths = [a for a in argv if not a.startswith("--")]
    if len(paths) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path.cwd()
    local, requirements = walk(root, root / paths[0])
    lines = [str(d.relative_to(root)) for d in local] if local_only else requirements
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
