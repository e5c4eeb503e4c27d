"""Editing a versioned record: the one rule every PATCH follows.

A record is a frozen dataclass with ``version`` and ``updated_at``. The caller
says which version it read; only editable fields change; nothing changed
means no new version (and no write, no event)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Any, Protocol, TypeVar

from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import StaleVersion


class Versioned(Protocol):
    @property
    def version(self) -> int: ...

    @property
    def updated_at(self) -> str: ...


R = TypeVar("R", bound=Versioned)


def revise(
    current: R,
    changes: Mapping[str, Any],
    *,
    editable: Collection[str],
    expected_version: int,
    noun: str = "record",
) -> R | None:
    """The next version of ``current`` with ``changes`` applied, or ``None``
    when nothing differs. Raises ``StaleVersion`` when ``current`` is not the
    version the caller read."""
    if current.version != expected_version:
        raise StaleVersion(f"The {noun} is at version {current.version}, not {expected_version}")
    unknown = set(changes) - set(editable)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    changed = {k: v for k, v in changes.items() if getattr(current, k) != v}
    if not changed:
        return None
    return replace(  # type: ignore[type-var]
        current, **changed, updated_at=now_iso(), version=current.version + 1
    )
