"""The registration rules (``vetting``), without I/O."""

from __future__ import annotations

import pytest

from mindlinks_client.providers import Officer, RegistryCompany
from mindlinks_client.vetting import (
    Authority,
    CompanyInactive,
    CompanyNotFound,
    assess,
    authority,
    is_inactive,
    is_officer,
    normalize_name,
    same_name,
)


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
    assert down.holds == ("registry-unreachable",)
    with pytest.raises(CompanyNotFound):
        assess("Acme Widgets Ltd", None, reachable=True)
    with pytest.raises(CompanyInactive):
        assess("Acme Widgets Ltd", registered(inactive=True), reachable=True)


@pytest.mark.parametrize(
    ("person", "officer"),
    [
        ("Ada Lovelace", "LOVELACE, Augusta Ada"),
        ("Augusta Ada Lovelace", "LOVELACE, Augusta Ada"),
        ("augusta lovelace", "LOVELACE, Augusta Ada"),
        ("Dr. Ada LOVELACE", "LOVELACE, Augusta Ada"),
        ("Ada Lovelace", "LOVELACE, Ada"),
        ("Ada King Lovelace", "LOVELACE, Ada"),  # one side's given names among the other's
        ("Seán O'Brien", "O'BRIEN, Sean"),
        ("Jan van der Berg", "VAN DER BERG, Jan"),
        ("Mary Smith-Jones", "SMITH-JONES, Mary Anne"),
        ("Christopher Taggart", "CHRISTOPHER TAGGART"),  # no comma: given names first
        ("Christopher Taggart", "TAGGART CHRISTOPHER"),  # ... or the surname first
        ("Charles Babbage OBE", "BABBAGE, Charles"),
    ],
)
def test_a_person_is_an_officer(person: str, officer: str) -> None:
    assert is_officer(person, officer)


@pytest.mark.parametrize(
    ("person", "officer"),
    [
        ("Jane Smith", "SMITH, John"),
        ("Ada Byron", "LOVELACE, Augusta Ada"),
        ("Lovelace", "LOVELACE, Augusta Ada"),  # a surname alone
        ("A. Lovelace", "LOVELACE, Augusta Ada"),  # initials are not names
        ("Ada Lovelace", "LOVELACE"),
        ("Ada Lovelace", "ACME NOMINEES LIMITED"),
        ("Berg", "VAN DER BERG, Jan"),
        ("Jan Berg", "VAN DER BERG, Jan"),
        ("", "LOVELACE, Ada"),
    ],
)
def test_a_person_is_not_an_officer(person: str, officer: str) -> None:
    assert not is_officer(person, officer)


ACME_OFFICERS = (
    Officer("LOVELACE, Augusta Ada", "director"),
    Officer("BABBAGE, Charles", "secretary"),
    Officer("MOSES, Robert", "director", end_date="2019-01-31", inactive=True),
    Officer("AGENTS R US, Grace", "agent"),
    Officer("LIDDELL, Alice", "Director", end_date="2020-05-01"),
)


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ("Ada Lovelace", Authority("matched", "LOVELACE, Augusta Ada", "director")),
        ("Charles Babbage", Authority("matched", "BABBAGE, Charles", "secretary")),
        ("Robert Moses", Authority("not-matched")),  # resigned
        ("Alice Liddell", Authority("not-matched")),  # an end date, though not flagged inactive
        ("Grace Agents R Us", Authority("not-matched")),  # an agent has no authority
        ("Mallory Evil", Authority("not-matched")),
        (None, Authority("not-matched")),  # auth does not know the account
    ],
)
def test_authority(person: str | None, expected: Authority) -> None:
    assert authority(person, ACME_OFFICERS) == expected


def test_without_an_officer_list_there_is_no_check() -> None:
    assert authority("Anyone", None) == Authority("no-officer-list")


@pytest.mark.parametrize(
    "position",
    ["director", "Managing Director", "LLP Designated Member", "member", "Partner", "President"],
)
def test_roles_with_authority(position: str) -> None:
    assert authority("Ada Lovelace", [Officer("LOVELACE, Ada", position)]).check == "matched"


@pytest.mark.parametrize(
    "position", ["agent", "registered agent", "auditor", "liquidator", "receiver", None]
)
def test_roles_without(position: str | None) -> None:
    assert authority("Ada Lovelace", [Officer("LOVELACE, Ada", position)]).check == "not-matched"


def test_every_reason_to_hold_is_kept() -> None:
    found = registered()
    officer = authority("Mallory Evil", ACME_OFFICERS)
    held = assess("Other Ltd", found, reachable=True, authority=officer, number_held=True)
    assert held.status == "pending_review"
    assert held.holds == ("name-mismatch", "officer-not-matched", "number-already-registered")
    taken = assess("Acme Widgets Ltd", found, reachable=True, number_held=True)
    assert (taken.status, taken.holds) == ("pending_review", ("number-already-registered",))
    matched = authority("Ada Lovelace", ACME_OFFICERS)
    clean = assess("Acme Widgets Ltd", found, reachable=True, authority=matched)
    assert (clean.status, clean.holds) == ("active", ())
    unlisted = assess("Acme Widgets", found, reachable=True, authority=authority("Anyone", None))
    assert (unlisted.status, unlisted.holds) == ("active", ())
