"""Step-up: what a signer (or any user) proves with a fresh one-time code
before a sensitive action, declared once for auth (which issues step-up
tokens) and the services that accept them.

A step-up token is an RS256 JWT from auth's keys with the audience
``STEP_UP_AUDIENCE`` (never an access token's), ``typ`` ``step-up``, ``sub``
the user, ``sid`` their session, ``purpose`` ``<kind>:<subject id>``, the
``method`` used and ``auth_time`` (when the code was confirmed). See ADR 0014.
"""

from __future__ import annotations

from typing import Literal

from mindlinks_kit.auth import STEP_UP_AUDIENCE

__all__ = [
    "AMENDMENT_SIGN",
    "CONTRACT_SIGN",
    "PURPOSES",
    "PURPOSE_PATTERN",
    "STEP_UP_AUDIENCE",
    "STEP_UP_TYPE",
    "Method",
    "purpose",
]

Method = Literal["email", "totp"]
STEP_UP_TYPE = "step-up"
"""The ``typ`` claim of a step-up token."""

CONTRACT_SIGN = "contract-sign"
AMENDMENT_SIGN = "amendment-sign"
"""Its subject: ``amendment_subject(contract id, number)``."""
PURPOSES: dict[str, str] = {
    CONTRACT_SIGN: "sign a contract",
    AMENDMENT_SIGN: "sign a contract amendment",
}
"""Each action a step-up token can be asked for, and how the code's mail names it."""
PURPOSE_PATTERN = r"^(" + "|".join(PURPOSES) + r"):[A-Za-z0-9_-]{1,64}$"
"""``<kind>:<subject id>`` (the subject: an id as the fleet's ids are)."""


def purpose(kind: str, subject_id: str) -> str:
    """The purpose a step-up token must name for ``kind`` on ``subject_id``."""
    assert kind in PURPOSES, kind
    return f"{kind}:{subject_id}"


def amendment_subject(contract_id: str, number: int) -> str:
    """The subject id of amendment ``number`` of a contract (``<id>-a<number>``)."""
    return f"{contract_id}-a{number}"
