"""The summary ``make fuzz`` prints (ending in one pass/fail line) and the
block it rewrites in docs/reliability.md (between ``<!-- fuzz:begin -->``
and ``<!-- fuzz:end -->``, nothing else)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

BLOCK = re.compile(r"(<!-- fuzz:begin -->\n).*?(<!-- fuzz:end -->)", re.S)


@dataclass
class Part:
    name: str
    figures: str
    """What was sent or checked, e.g. ``612 cells, 520 requests``."""
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class Report:
    command: str
    seed: int
    started: str
    seconds: float = 0.0
    parts: list[Part] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.parts) and all(p.passed for p in self.parts)

    def verdict(self) -> str:
        failed = [p.name for p in self.parts if not p.passed]
        if not failed:
            return f"make fuzz: PASS ({len(self.parts)} parts, seed {self.seed})"
        return f"make fuzz: FAIL ({', '.join(failed)}; seed {self.seed})"

    def summary(self, detail: int = 20) -> str:
        lines = [f"hostile input, seed {self.seed}, {self.seconds:.0f} s", ""]
        for part in self.parts:
            mark = "ok  " if part.passed else "FAIL"
            lines.append(f"{mark} {part.name}: {part.figures}")
            lines.extend(f"       {failure}" for failure in part.failures[:detail])
            if len(part.failures) > detail:
                lines.append(f"       … and {len(part.failures) - detail} more")
        lines += ["", self.verdict()]
        return "\n".join(lines)

    def block(self) -> str:
        rows = "\n".join(
            f"| {p.name} | {p.figures} | {'pass' if p.passed else f'FAIL ({len(p.failures)})'} |"
            for p in self.parts
        )
        return (
            "## Hostile input (`make fuzz`)\n\n"
            f"Latest full run: {self.started}, {self.seconds:.0f} s, "
            f"seed {self.seed}, with\n\n```sh\n{self.command}\n```\n\n"
            "| part | what was sent and checked | result |\n|---|---|---|\n"
            f"{rows}\n\n**{self.verdict()}**\n"
        )


def write_block(document: Path, block: str) -> None:
    text = document.read_text(encoding="utf-8")
    if not BLOCK.search(text):
        raise ValueError(f"{document} has no fuzz:begin/fuzz:end block")
    document.write_text(
        BLOCK.sub(lambda m: f"{m.group(1)}{block}{m.group(2)}", text), encoding="utf-8"
    )
