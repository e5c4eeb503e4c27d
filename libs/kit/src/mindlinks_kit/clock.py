"""The fleet's clock, and times on the wire: ISO 8601 UTC with a ``Z``,
sortable as strings.

In local mode the clock can be moved forward: ``MINDLINKS_CLOCK_FILE`` names
a file holding an offset in seconds (``mindlinks-local clock advance 14d``
writes it; a test's fixture does too), added to the real time by ``now()``
and ``now_iso()`` in every process that reads the file. That is how a test
sees a fourteen-day timer fire without waiting fourteen days. Outside local
mode the file is ignored: a deployed clock is the real one.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

CLOCK_FILE = "MINDLINKS_CLOCK_FILE"
_ENVIRONMENT = "MINDLINKS_ENVIRONMENT"
_LOCAL = ("local", "test")  # settings.LOCAL_ENVIRONMENTS; the default environment is local
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_read: tuple[str, tuple[int, int, int], float] | None = None
"""(path, its inode, modification time and size, offset) last read: the file
is parsed again only when it changed (``advance`` replaces it: a new inode)."""


def offset_seconds() -> float:
    """How far the local clock is ahead of the real one (0 outside local mode)."""
    global _read
    path = os.environ.get(CLOCK_FILE)
    if not path or os.environ.get(_ENVIRONMENT, "local") not in _LOCAL:
        return 0.0
    try:
        found = os.stat(path)
        changed = (found.st_ino, found.st_mtime_ns, found.st_size)
    except OSError:
        return 0.0
    if _read is not None and _read[0] == path and _read[1] == changed:
        return _read[2]
    try:
        offset = float(Path(path).read_text(encoding="utf-8").strip() or 0)
    except (OSError, ValueError):
        offset = 0.0
    _read = (path, changed, offset)
    return offset


def now() -> datetime:
    """The current time (UTC, aware), moved by the local offset if any."""
    current = datetime.now(UTC)
    offset = offset_seconds()
    return current + timedelta(seconds=offset) if offset else current


def iso(moment: datetime) -> str:
    """``moment`` as the wire writes times (it must be aware)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse(stamp: str) -> datetime:
    """A time as the wire writes it (``...Z`` or an offset) back to an aware one."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def now_iso() -> str:
    return iso(now())


def parse_duration(text: str) -> float:
    """Seconds in ``90``, ``90s``, ``15m``, ``2h``, ``14d`` or ``1.5d``."""
    found = _DURATION.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"not a duration: {text!r} (e.g. 14d, 2h, 15m, 90s)")
    return float(found.group(1)) * _UNITS[found.group(2)]


def advance(path: Path, seconds: float) -> float:
    """Move the local clock in ``path`` forward by ``seconds``; returns the new offset."""
    try:
        offset = float(path.read_text(encoding="utf-8").strip() or 0)
    except (OSError, ValueError):
        offset = 0.0
    offset += seconds
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".new")
    temporary.write_text(f"{offset}\n", encoding="utf-8")
    temporary.replace(path)  # readers never see a half-written file
    return offset
