"""Where a command's answer goes: ``out`` for the answer (a table, or JSON
for scripts), ``err`` for warnings and failures."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO


@dataclass
class Console:
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)

    def say(self, text: str) -> None:
        print(text, file=self.out)

    def warn(self, text: str) -> None:
        print(text, file=self.err)

    def json(self, body: Any) -> None:
        self.say(json.dumps(body, indent=2, sort_keys=True))
