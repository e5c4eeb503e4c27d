"""Distinct active companies for the local registry (the client service's
``LocalRegistry``): it answers ``active`` for any ``gb/ML`` + six digits
number, named ``MINDLINKS LOCAL <digits> LTD``, with no officer list, so the
demo, the tests and scripts can each register their own company against one
running fleet (a registry number belongs to at most one active company).

Numbers follow each other from a random start: distinct within a process,
and unlikely to meet another process's (the demo run twice, two suites)."""

from __future__ import annotations

import itertools
import secrets
import threading
from dataclasses import dataclass

_next = itertools.count(secrets.randbelow(900_000))
_lock = threading.Lock()


@dataclass(frozen=True)
class LocalCompany:
    jurisdiction_code: str
    company_number: str
    legal_name: str


def local_company() -> LocalCompany:
    """A registry number nobody in this process has used, with its registered name."""
    with _lock:
        digits = f"{next(_next) % 1_000_000:06d}"
    return LocalCompany("gb", f"ML{digits}", f"Mindlinks Local {digits} Ltd")
