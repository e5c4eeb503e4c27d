"""Bank-detail validation and masks, without I/O."""

from __future__ import annotations

import pytest

from mindlinks_contractor.domain import (
    BankAccount,
    iban_problem,
    mask_iban,
    normalize_iban,
    routing_problem,
)


@pytest.mark.parametrize(
    "iban",
    [
        "GB29 NWBK 6016 1331 9268 19",
        "DE89 3704 0044 0532 0130 00",
        "FR14 2004 1010 0505 0001 3M02 606",
        "NL91 ABNA 0417 1643 00",
        "gb29-nwbk-6016-1331-9268-19",
        "BR15 0000 0000 0000 1093 2840 814P 2",  # outside SEPA: checksum only
    ],
)
def test_valid_ibans(iban: str) -> None:
    assert iban_problem(normalize_iban(iban)) is None


@pytest.mark.parametrize(
    ("iban", "why"),
    [
        ("GB29 NWBK 6016 1331 9268 18", "check digits"),
        ("GB29 NWBK 6016 1331 9268", "22 characters"),
        ("DE89 3704 0044 0532 0130 0", "22 characters"),
        ("XX", "country code"),
        ("1234 5678 9012 3456", "country code"),
    ],
)
def test_invalid_ibans(iban: str, why: str) -> None:
    problem = iban_problem(normalize_iban(iban))
    assert problem is not None
    assert why in problem


@pytest.mark.parametrize("routing", ["021000021", "011000015", "121000358"])
def test_valid_routing_numbers(routing: str) -> None:
    assert routing_problem(routing) is None


@pytest.mark.parametrize("routing", ["021000022", "12345678", "02100002a"])
def test_invalid_routing_numbers(routing: str) -> None:
    assert routing_problem(routing) is not None


def test_masks_show_only_the_country_and_the_last_digits() -> None:
    assert mask_iban("GB29NWBK60161331926819") == "GB** **** **** **** 6819"
    assert mask_iban("NL91ABNA0417164300") == "NL** **** **** **** 4300"
    account = BankAccount(
        account_holder="Grace",
        country="US",
        currency="USD",
        account_number="000123456789",
        routing_number="021000021",
    )
    assert account.scheme == "local"
    assert account.masked() == {"account_number": "********6789", "routing_number": "*****0021"}
    assert set(account.sensitive()) == {"account_number", "routing_number"}
    short = BankAccount(
        account_holder="G", country="GB", currency="GBP", account_number="1234", sort_code="601613"
    )
    assert short.masked() == {"account_number": "****", "sort_code": "**-**-13"}
