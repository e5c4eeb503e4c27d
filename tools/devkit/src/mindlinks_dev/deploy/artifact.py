"""``--write`` / ``--check`` for a file generated from the fleet declaration."""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from mindlinks_dev.openapi import repo_root


def main(
    prog: str,
    relative: str,
    render: Callable[[], str],
    argv: Sequence[str] | None = None,
) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=f"Generate {relative}.")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help=f"rewrite {relative}")
    mode.add_argument("--check", action="store_true", help="exit 1 when it is out of date")
    parser.add_argument("--root", type=Path, default=None, help="workspace root")
    args = parser.parse_args(argv)
    path = (args.root or repo_root(Path.cwd())) / relative
    text = render()
    if args.write:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {relative}")
        return 0
    current = path.read_text(encoding="utf-8") if path.is_file() else ""
    if current == text:
        return 0
    sys.stdout.writelines(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            text.splitlines(keepends=True),
            f"{relative} (committed)",
            f"{relative} (generated)",
        )
    )
    print(f"\n{relative} is out of date: run `python -m {prog} --write`")
    return 1
