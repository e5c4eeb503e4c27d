"""How long ``.ci/run`` takes: read from a record, not run by the bench (the
whole suite takes far longer than the bench's ten minutes).

``make ci-timed`` runs this file with the system's Python (no set-up first:
on a clean clone the set-up is part of what ``.ci/run`` takes); it runs
``.ci/run`` and records its wall time, exit status, commit and date in
``.run/ci-run.json``, where ``make bench`` reads the newest record. Without
one, the row quotes the last figure written down (README, before issue 13)
and says so. Standard library only, for that reason.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

RECORD = Path(".run") / "ci-run.json"
LAST_WRITTEN_DOWN = 22 * 60 + 27.0
"""The slower of two ``.ci/run`` runs on a clean clone here (21 min 31 s and
22 min 27 s), README "Performance", before issue 13."""


_GIT = shutil.which("git") or "git"
"""git by its full path (what the bench names as measured is a commit)."""


@dataclass(frozen=True)
class CiRun:
    seconds: float
    source: str


def recorded(root: Path) -> CiRun:
    """The newest recorded ``.ci/run``, else the figure written down last."""
    try:
        record = json.loads((root / RECORD).read_text())
        seconds = float(record["seconds"])
        status = "passed" if record["exitCode"] == 0 else f"exit {record['exitCode']}"
        when = f"{record['when']} at {record['commit'][:8]}"
    except (OSError, ValueError, KeyError, TypeError):
        return CiRun(
            LAST_WRITTEN_DOWN,
            "not run by the bench, and no `make ci-timed` record here: the last figure "
            "written down (README, before issue 13)",
        )
    return CiRun(seconds, f"recorded by `make ci-timed` {when}, {status}")


def git(*args: str, cwd: Path | None = None) -> str:
    """git's answer (empty when it fails): the bench names the commit it measured."""
    found = subprocess.run(  # noqa: S603 - git, to name what was measured
        [_GIT, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip()


def main() -> int:
    root = Path(git("rev-parse", "--show-toplevel") or ".")
    commit = git("rev-parse", "HEAD")
    began = time.monotonic()
    code = subprocess.run([str(root / ".ci" / "run")], cwd=root, check=False).returncode  # noqa: S603 - the repo's CI entry point
    seconds = time.monotonic() - began
    record = {
        "seconds": round(seconds, 1),
        "exitCode": code,
        "commit": commit,
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    (root / RECORD).parent.mkdir(exist_ok=True)
    (root / RECORD).write_text(json.dumps(record, indent=2) + "\n")
    minutes, rest = divmod(round(seconds), 60)
    print(f".ci/run took {minutes} min {rest:02d} s (exit {code}); {RECORD}")
    return code


if __name__ == "__main__":
    sys.exit(main())
