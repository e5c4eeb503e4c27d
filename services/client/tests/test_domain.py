"""The registration rules, without I/O."""

from __future__ import annotations

import pytest

from mindlinks_client.domain import (
    CompanyInactive,
    CompanyNotFound,
    assess,
    is_inactive,
    normalize_name,
    same_name,
)
from mindlinks_client.providers import RegistryCompany


def registered(name: str = "ACME WIDGETS LTD", **overrides: object) -> RegistryCompany:
    fields: dict[str, object] = {
        "name": name,
        "company_number": "12345678",
        "jurisdiction_code": "gb",
        "current_status": "Active",
        "inactive": False,
        "dissolution_date": None,
        "registered_address": None,
        **overrides,
    }
    return RegistryCompany(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("submitted", "registered_name"),
    [
        ("Acme Widgets Ltd", "ACME WIDGETS LTD"),
        ("Acme Widgets Limited", "ACME WIDGETS LTD"),
        ("acme widgets", "ACME WIDGETS LTD."),
        ("The Acme Widgets Company Ltd", "ACME WIDGETS CO LIMITED"),
        ("Smith & Sons", "SMITH AND SONS LIMITED"),
        ("Globex L.L.C.", "GLOBEX LLC"),
        ("Société Générale S.A.", "SOCIETE GENERALE"),
        ("  Acme   Widgets,  Ltd ", "ACME WIDGETS LTD"),
    ],
)
def test_names_match_once_normalized(submitted: str, registered_name: str) -> None:
    assert same_name(submitted, registered_name)


@pytest.mark.parametrize(
    ("submitted", "registered_name"),
    [
        ("Acme Gadgets Ltd", "ACME WIDGETS LTD"),
        ("Acme Widgets Holdings Ltd", "ACME WIDGETS LTD"),
        ("The Co Ltd", "THE CO LTD"),  # nothing left to compare
    ],
)
def test_other_names_do_not(submitted: str, registered_name: str) -> None:
    assert not same_name(submitted, registered_name)


def test_normalized_names() -> None:
    assert normalize_name("The Acme Widgets Company Ltd.") == "acme widgets"
    assert normalize_name("Ærø & Co") == "ærø and"
    assert normalize_name("Ørsted A/S") != normalize_name("Ærsted A/S")
    assert normalize_name("株式会社 Example") == "株式会社 example"


@pytest.mark.parametrize(
    "overrides",
    [
        {"inactive": True},
        {"dissolution_date": "2021-06-30"},
        {"current_status": "Dissolved"},
        {"current_status": "Liquidation"},
        {"current_status": "In Administration"},
        {"current_status": "Struck Off"},
        {"current_status": "Converted / Closed"},
    ],
)
def test_inactive_companies(overrides: dict[str, object]) -> None:
    assert is_inactive(registered(**overrides))


@pytest.mark.parametrize("status", ["Active", "Good Standing", "Registered", None])
def test_active_companies(status: str | None) -> None:
    assert not is_inactive(registered(current_status=status))


def test_the_policy() -> None:
    assert assess("Acme Widgets Ltd", registered(), reachable=True).status == "active"
    mismatch = assess("Other Ltd", registered(), reachable=True)
    assert (mismatch.status, mismatch.name_mismatch) == ("pending_review", True)
    down = assess("Acme Widgets Ltd", None, reachable=False)
    assert (down.status, down.name_mismatch, down.registry) == ("pending_review", False, None)
    with pytest.raises(CompanyNotFound):
        assess("Acme Widgets Ltd", None, reachable=True)
    with pytest.raises(CompanyInactive):
        assess("Acme Widgets Ltd", registered(inactive=True), reachable=True)
