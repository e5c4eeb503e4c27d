"""Money as the fleet writes it: amounts in ISO 4217 minor units, the
currencies a contract may be drawn in, and one way to show an amount to a
person (the contract PDF, an invoice, a mail all print it alike)."""

from __future__ import annotations

from collections.abc import Mapping

CURRENCIES: Mapping[str, int] = {
    "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "CAD": 2, "AUD": 2, "NZD": 2,
    "SEK": 2, "NOK": 2, "DKK": 2, "PLN": 2, "CZK": 2, "HUF": 2, "RON": 2,
    "SGD": 2, "HKD": 2, "INR": 2, "BRL": 2, "MXN": 2, "ZAR": 2, "AED": 2,
    "JPY": 0,
}  # fmt: skip
"""The ISO 4217 codes a contract may use, with their minor-unit exponent."""
_ZERO_DECIMAL = frozenset({
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "MGA", "PYG",
    "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF",
})  # fmt: skip
_THREE_DECIMAL = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})


def exponent(currency: str) -> int:
    """The currency's minor-unit exponent (2 unless ISO 4217 says otherwise)."""
    code = currency.upper()
    if code in CURRENCIES:
        return CURRENCIES[code]
    return 0 if code in _ZERO_DECIMAL else 3 if code in _THREE_DECIMAL else 2


def format_money(amount_minor: int, currency: str) -> str:
    """``150000, "EUR"`` → ``EUR 1,500.00`` (integer arithmetic, never floats)."""
    code = currency.upper()
    places = exponent(code)
    sign = "-" if amount_minor < 0 else ""
    major, minor = divmod(abs(amount_minor), 10**places)
    if places == 0:
        return f"{code} {sign}{major:,}"
    return f"{code} {sign}{major:,}.{minor:0{places}d}"
