"""What a contract says besides its parties: money in minor units (the
currencies and their exponents), the payment lines its terms give, the escrow
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

# ISO 4217 codes we accept, with their minor-unit exponent.
CURRENCIES: Mapping[str, int] = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "CAD": 2,
    "AUD": 2,
    "NZD": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "CZK": 2,
    "HUF": 2,
    "RON": 2,
    "SGD": 2,
    "HKD": 2,
    "INR": 2,
    "BRL": 2,
    "MXN": 2,
    "ZAR": 2,
    "AED": 2,
    "JPY": 0,
}


def format_money(amount_minor: int, currency: str) -> str:
    """``150000, "EUR"`` → ``EUR 1,500.00`` (integer arithmetic, never floats)."""
    exponent = CURRENCIES.get(currency, 2)
    sign = "-" if amount_minor < 0 else ""
    major, minor = divmod(abs(amount_minor), 10**exponent)
    if exponent == 0:
        return f"{currency} {sign}{major:,}"
    return f"{currency} {sign}{major:,}.{minor:0{exponent}d}"


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
