"""What the business registry's answer means for a registration: the company
exists and is active, the name matches, the person registering is one of its
officers (where the registry lists them), and nobody else holds the number.

Pure rules, no I/O; ``service.companies.Companies`` asks the registry and applies them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from mindlinks_client.providers import Officer, RegistryCompany
from mindlinks_fleet.events import CompanyStatus
from mindlinks_fleet.internal.client import AuthorityCheck, Hold
from mindlinks_kit.errors import InvalidInput


class CompanyNotFound(InvalidInput):
    code = "company-not-found"
    title = "The business registry does not know this company"


class CompanyInactive(InvalidInput):
    code = "company-inactive"
    title = "The business registry lists this company as inactive"


Status = CompanyStatus

_LEGAL_FORMS = {
    "limited": "ltd",
    "ltd": "ltd",
    "plc": "plc",
    "llp": "llp",
    "llc": "llc",
    "inc": "inc",
    "incorporated": "inc",
    "corp": "corp",
    "corporation": "corp",
    "co": "co",
    "company": "co",
    "gmbh": "gmbh",
    "ag": "ag",
    "sa": "sa",
    "sas": "sas",
    "sarl": "sarl",
    "bv": "bv",
    "nv": "nv",
    "ab": "ab",
    "oy": "oy",
    "pty": "pty",
    "srl": "srl",
    "spa": "spa",
}
_INACTIVE_WORDS = (
    "dissolved",
    "liquidation",
    "struck off",
    "closed",
    "removed",
    "receivership",
    "administration",
    "insolvency",
    "inactive",
    "cancelled",
    "terminated",
    "revoked",
    "void",
    "forfeited",
)


def normalize_name(name: str) -> str:
    """A company name reduced to what identifies it: case, accents, punctuation,
    "&"/"and", a leading "the" and trailing legal forms ("Ltd", "Limited",
    "L.L.C." ...) do not count."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("&", " and ")
    text = re.sub(r"\b([a-z])\.(?=[a-z]\.)", r"\1", text)  # l.l.c. → llc.
    words = re.sub(r"[\W_]+", " ", text).split()  # letters of any script stay
    if words[:1] == ["the"]:
        words = words[1:]
    while words and words[-1] in _LEGAL_FORMS:
        words.pop()
    return " ".join(words)


def same_name(submitted: str, registered: str) -> bool:
    """Equal once normalized (and not reduced to nothing, as "The Co Ltd" is)."""
    ours = normalize_name(submitted)
    return bool(ours) and ours == normalize_name(registered)


def is_inactive(company: RegistryCompany) -> bool:
    """Dissolved, in liquidation, struck off...: OpenCorporates' ``inactive``
    flag, a dissolution date, or a status saying so."""
    status = (company.current_status or "").lower()
    return (
        company.inactive
        or bool(company.dissolution_date)
        or any(word in status for word in _INACTIVE_WORDS)
    )


_TITLES = frozenset(
    ("mr", "mrs", "ms", "miss", "mx", "dr", "sir", "dame", "lord", "lady", "prof", "rev", "hon")
)
_SUFFIXES = frozenset(
    ("jr", "jnr", "sr", "snr", "ii", "iii", "iv", "obe", "mbe", "cbe", "kbe", "phd", "qc", "kc")
)
AUTHORITY_ROLES = ("director", "secretary", "member", "partner", "president", "chief executive")
"""Officer positions (as the registry words them, any case) that show authority
to register the company: directors (incl. nominee and managing directors),
company secretaries, LLP (designated) members and LLC members, partners,
presidents and chief executives. Agents, auditors, liquidators, receivers and
the like do not count; nor does anyone who has left (an end date or inactive)."""


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub("['`\u2019]", "", text)  # O'Brien → obrien
    return re.sub(r"[\W_]+", " ", text).split()


def _person(text: str) -> list[str]:
    words = [w for w in _words(text) if w not in _SUFFIXES]
    while words and words[0] in _TITLES:
        words = words[1:]
    return words


def _officer_names(name: str) -> list[tuple[list[str], list[str]]]:
    """(given names, surname) readings of a registry's officer name:
    ``SURNAME, Given Names`` as OpenCorporates lists British officers, else
    ``Given Names Surname`` or ``SURNAME Given Names``."""
    if "," in name:
        surname, _, given = name.partition(",")
        return [(_person(given), _person(surname))]
    words = _person(name)
    if len(words) < 2:
        return []
    return [(words[:-1], words[-1:]), (words[1:], words[:1])]


def is_officer(person: str, officer_name: str) -> bool:
    """The person's name is the officer's: the same surname (all its words),
    and given names of which one side's are all among the other's
    ("Ada Lovelace" is "LOVELACE, Augusta Ada"; "Jane Smith" is not
    "SMITH, John"). Case, accents, punctuation, titles and honours do not
    count; initials do not match a name."""
    words = _person(person)
    for given, surname in _officer_names(officer_name):
        if not surname or not given or len(words) <= len(surname):
            continue
        if words[-len(surname) :] != surname:
            continue
        ours = set(words[: -len(surname)])
        if ours <= set(given) or set(given) <= ours:
            return True
    return False


def counts(officer: Officer) -> bool:
    position = (officer.position or "").lower()
    return officer.current and any(role in position for role in AUTHORITY_ROLES)


@dataclass(frozen=True)
class Authority:
    """Whether the person registering is one of the company's officers."""

    check: AuthorityCheck
    officer: str | None = None
    """The matching officer, as the registry names them."""
    position: str | None = None


def authority(person: str | None, officers: Iterable[Officer] | None) -> Authority:
    """``no-officer-list`` when the registry lists none (the check cannot be
    made); else ``matched`` with the first current officer in a counted role
    whose name is the person's, or ``not-matched``."""
    if officers is None:
        return Authority("no-officer-list")
    for officer in officers:
        if person and counts(officer) and is_officer(person, officer.name):
            return Authority("matched", officer=officer.name, position=officer.position)
    return Authority("not-matched")


@dataclass(frozen=True)
class Assessment:
    status: Status
    name_mismatch: bool
    registry: RegistryCompany | None
    """``None`` when the registry could not be asked."""
    holds: tuple[Hold, ...] = ()


def assess(
    submitted_name: str,
    found: RegistryCompany | None,
    *,
    reachable: bool,
    authority: Authority | None = None,
    number_held: bool = False,
) -> Assessment:
    """The registration policy (docs/lifecycle.md): unknown → 422
    ``company-not-found``; inactive → 422 ``company-inactive``; held for an
    admin (``pending_review``) when the registry could not answer, the name
    differs, the registry lists officers and the person is none of them, or
    another active company holds the number; otherwise ``active``."""
    if reachable and found is None:
        raise CompanyNotFound()
    if found is not None and is_inactive(found):
        raise CompanyInactive(
            f"The registry lists the company as {found.current_status or 'inactive'}",
            registryStatus=found.current_status,
        )
    holds: list[Hold] = []
    if not reachable:
        holds.append("registry-unreachable")
    mismatch = found is not None and not same_name(submitted_name, found.name)
    if mismatch:
        holds.append("name-mismatch")
    if authority is not None and authority.check == "not-matched":
        holds.append("officer-not-matched")
    if number_held:
        holds.append("number-already-registered")
    return Assessment(
        "pending_review" if holds else "active",
        name_mismatch=mismatch,
        registry=found,
        holds=tuple(holds),
    )
