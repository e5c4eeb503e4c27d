"""What a contract says besides its parties: the payment lines its terms give, the escrow
terms (review period, termination notice) and template text.

No FastAPI here, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mindlinks_kit.errors import InvalidInput


class InvalidTemplate(InvalidInput):
    code = "invalid-template"
    title = "The template uses placeholders that do not exist"


REVIEW_DAYS = 14
"""The default review period: days the client has to answer a submitted item."""
MAX_REVIEW_DAYS = 90
NOTICE_DAYS = 0
"""The default notice: a termination may end the contract at once."""
MAX_NOTICE_DAYS = 180


@dataclass(frozen=True)
class Line:
    """One payment of the schedule: a fixed fee is one line, milestones many."""

    title: str
    amount_minor: int
    due_date: str


def schedule(terms: Mapping[str, Any], title: str) -> list[Line]:
    """The payment lines of ``terms`` (the wire shape: ``{"kind": ...}``)."""
    if terms["kind"] == "fixed":
        return [Line(title, int(terms["amountMinor"]), str(terms["dueDate"]))]
    return [
        Line(str(m["title"]), int(m["amountMinor"]), str(m["dueDate"])) for m in terms["milestones"]
    ]


def total_minor(terms: Mapping[str, Any]) -> int:
    return sum(line.amount_minor for line in schedule(terms, ""))


# Templates: ``{{name}}`` placeholders from an allow-list, substituted as plain
# text (the PDF renderer escapes everything afterwards). Not a template engine.
PLACEHOLDERS = ("clientName", "contractorName", "title", "startDate")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.]*)\s*\}\}")


def unknown_placeholders(body: str) -> list[str]:
    return sorted({name for name in _PLACEHOLDER.findall(body) if name not in PLACEHOLDERS})


def check_template(body: str) -> None:
    unknown = unknown_placeholders(body)
    if unknown:
        raise InvalidTemplate(
            f"Unknown placeholders: {', '.join(unknown) or '(empty)'}; "
            f"allowed: {', '.join(PLACEHOLDERS)}",
            allowed=list(PLACEHOLDERS),
        )


def fill_template(body: str, values: Mapping[str, str]) -> str:
    """Replace allowed placeholders with their values; anything else is left as written."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        return values[name] if name in PLACEHOLDERS and name in values else match.group(0)

    return _PLACEHOLDER.sub(substitute, body)
