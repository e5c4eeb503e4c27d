"""One way to show an amount in minor units, for the PDFs and the mails."""

from __future__ import annotations

import pytest

from mindlinks_fleet.money import CURRENCIES, exponent, format_money


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [
        (150_000, "EUR", "EUR 1,500.00"),
        (5, "usd", "USD 0.05"),
        (0, "GBP", "GBP 0.00"),
        (123_456_789, "GBP", "GBP 1,234,567.89"),
        (150_000, "JPY", "JPY 150,000"),
        (1500, "KWD", "KWD 1.500"),
        (-250, "EUR", "EUR -2.50"),
    ],
)
def test_money_is_shown_in_major_units(minor: int, currency: str, shown: str) -> None:
    assert format_money(minor, currency) == shown


def test_every_contract_currency_has_its_iso_exponent() -> None:
    assert exponent("JPY") == 0
    assert {exponent(code) for code in CURRENCIES if code != "JPY"} == {2}
