from __future__ import annotations

from dataclasses import dataclass

import pytest

from mindlinks_kit.dynamo import StaleVersion
from mindlinks_kit.revisions import revise


@dataclass(frozen=True)
class Record:
    name: str
    city: str
    version: int
    updated_at: str


CURRENT = Record("Ada", "London", 3, "2026-01-01T00:00:00Z")


def test_a_change_makes_the_next_version() -> None:
    updated = revise(CURRENT, {"city": "Paris"}, editable={"city"}, expected_version=3)
    assert updated is not None
    assert (updated.city, updated.name, updated.version) == ("Paris", "Ada", 4)
    assert updated.updated_at != CURRENT.updated_at


def test_no_difference_means_no_new_version() -> None:
    assert revise(CURRENT, {"city": "London"}, editable={"city"}, expected_version=3) is None


def test_a_stale_version_or_a_locked_field_is_refused() -> None:
    with pytest.raises(StaleVersion, match="version 3, not 2"):
        revise(CURRENT, {"city": "Paris"}, editable={"city"}, expected_version=2)
    with pytest.raises(ValueError, match="not editable"):
        revise(CURRENT, {"name": "Grace"}, editable={"city"}, expected_version=3)
