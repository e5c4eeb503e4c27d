"""The CI matrix of images, derived from the fleet declaration.

    python -m mindlinks_dev.deploy.matrix   # {"include": [{"service": "auth", "port": 3001}, ...]}

Every declared service whose package exists (``services/<name>/pyproject.toml``):
a declared service that is still being written has nothing to build yet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mindlinks_dev.openapi import repo_root
from mindlinks_fleet import FLEET
from mindlinks_kit.declaration import Fleet, Service


def built(fleet: Fleet, root: Path | None = None) -> list[Service]:
    """The declared services whose package exists (``services/<name>/pyproject.toml``):
    what gets an image, a compose block and an ECS service."""
    root = root or repo_root(Path(__file__))
    return [s for s in fleet.services if (root / "services" / s.name / "pyproject.toml").is_file()]


def matrix(fleet: Fleet, root: Path) -> dict[str, Any]:
    return {"include": [{"service": s.name, "port": s.port} for s in built(fleet, root)]}


def main() -> int:
    print(json.dumps(matrix(FLEET, repo_root(Path.cwd())), separators=(",", ":")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
