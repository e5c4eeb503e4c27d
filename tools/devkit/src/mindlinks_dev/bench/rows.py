"""The bench's table: each row a measurement, the floor it is compared with
(measured in the same run, or derived and saying so), the ratio, the target
and the verdict — and, when the target is missed, what bounds it.

Pure: no measuring here, so the verdicts and the layout are unit-tested.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

PASS, FAIL, NOT_MEASURED = "PASS", "FAIL", "NOT MEASURED"


@dataclass(frozen=True)
class Target:
    """At most ``limit`` — of the measured value, or of its ratio to the floor."""

    limit: float
    text: str
    """As the issue states it: ``≤ 15 s``, ``≤ 1.2 x one hash``."""
    on: Literal["value", "ratio"] = "value"
    tried: str = ""
    """What was tried against it, said beside what bounds it when it is missed."""

    def met(self, value: float, ratio: float | None) -> bool | None:
        """Whether it is met; ``None`` when what it bounds was not measured."""
        bounded = value if self.on == "value" else ratio
        return None if bounded is None else bounded <= self.limit


@dataclass(frozen=True)
class Row:
    what: str
    value: float | None
    """``None``: the measurement did not complete (the run says why)."""
    unit: str
    floor: float | None
    floor_what: str
    """What the floor is, and where it comes from when it is not measured."""
    target: Target
    bound: str = ""
    """What bounds the value (said for every row, needed for a miss)."""

    @property
    def ratio(self) -> float | None:
        if self.value is None or self.floor is None or self.floor <= 0:
            return None
        return self.value / self.floor

    @property
    def explained(self) -> str:
        """What bounds it, and for a miss what was tried against it."""
        if self.verdict == FAIL and self.target.tried:
            return f"{self.bound}. Tried: {self.target.tried}"
        return self.bound

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "verdict": self.verdict}

    @property
    def verdict(self) -> str:
        if self.value is None:
            return NOT_MEASURED
        met = self.target.met(self.value, self.ratio)
        return NOT_MEASURED if met is None else PASS if met else FAIL


def amount(value: float | None, unit: str) -> str:
    """A value with its unit, to the precision that unit deserves."""
    if value is None or math.isnan(value):
        return "—"
    if unit == "s":
        if value < 60:
            return f"{value:.1f} s"
        minutes, seconds = divmod(round(value), 60)
        return f"{minutes} min {seconds:02d} s"
    if unit == "ms":
        digits = 3 if value < 1 else 2 if value < 10 else 1
        return f"{value:.{digits}f} ms"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    if unit == "/s":
        return f"{value:.2f}/s"
    if unit == "calls":
        return f"{value:.0f}"
    return f"{value:g} {unit}"


def ratio_text(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    return f"{ratio:.2f}x" if ratio < 10 else f"{ratio:.0f}x"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


HEADER = ("what", "measured", "floor", "ratio", "target", "verdict", "what bounds it")


def table(rows: Sequence[Row]) -> list[str]:
    """The Markdown table, one line per row."""
    lines = ["| " + " | ".join(HEADER) + " |", "|---|---:|---|---:|---|---|---|"]
    for row in rows:
        floor = f"{amount(row.floor, row.unit)} ({row.floor_what})" if row.floor_what else "—"
        cells = (
            row.what,
            amount(row.value, row.unit),
            floor,
            ratio_text(row.ratio),
            row.target.text,
            f"**{row.verdict}**",
            row.explained,
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def tally(rows: Iterable[Row]) -> dict[str, int]:
    """How many rows passed, failed and were not measured."""
    counts = {PASS: 0, FAIL: 0, NOT_MEASURED: 0}
    for row in rows:
        counts[row.verdict] += 1
    return counts


def summary_line(rows: Sequence[Row]) -> str:
    counts = tally(rows)
    line = f"bench: {counts[PASS]} of {len(rows)} targets met, {counts[FAIL]} missed"
    if counts[NOT_MEASURED]:
        line += f", {counts[NOT_MEASURED]} not measured"
    return line
