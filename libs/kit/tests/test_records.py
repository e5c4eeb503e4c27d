from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from pydantic import ValidationError

from mindlinks_kit.address import Address
from mindlinks_kit.dynamo import from_wire, to_wire
from mindlinks_kit.records import Record, _codec

State = Literal["new", "done"]


@dataclass(frozen=True, slots=True)
class Step:
    """A map in a list, whose statuses are stored as ``from`` and ``to``."""

    from_state: State
    to_state: State
    by_user_id: str | None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Stamp:
    """Embedded: stored in the item's top level, as ``stampSeq`` and ``stampedAt``."""

    seq: int
    stamped_at: str


@dataclass(frozen=True, slots=True)
class Thing:
    """What a stored record may hold: camelCase names, an optional field
    without a default, free-form data, a nested dataclass, a list of them,
    an embedded one, a tuple and numbers. Slotted, as the records need no
    instance ``__dict__``."""

    id: str
    state: State
    owner_user_id: str
    parent_id: str | None
    """May be ``None``, without a default: absent reads as ``None``."""
    extra: dict[str, Any]
    """Free-form: stored as it is, ``None`` values and snake_case keys too."""
    place: Address | None = None
    steps: tuple[Step, ...] = ()
    stamp: Stamp | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    size_minor: int = 0
    version: int = 1


STEPS = {"from_state": "from", "to_state": "to"}
STAMPS = Record(Stamp, names={"seq": "stampSeq", "stamped_at": "stampedAt"})
THINGS = Record(Thing, names=STEPS, embedded={"stamp": STAMPS})

FULL = Thing(
    id="t1",
    state="done",
    owner_user_id="u1",
    parent_id="t0",
    extra={"keep_snake": None, "n": 3},
    place=Address("1 Road", "Leeds", "LS1 1AA", "GB", line2="Flat 2"),
    steps=(Step("new", "done", "u1", "ok"), Step("done", "new", None)),
    stamp=Stamp(7, "2024-01-01"),
    tags=("a", "b"),
    size_minor=1250,
    version=3,
)
BARE = Thing(id="t2", state="new", owner_user_id="u1", parent_id=None, extra={})


def test_fields_are_stored_in_camel_case_without_none_at_any_level() -> None:
    assert THINGS.item(FULL) == {
        "id": "t1",
        "state": "done",
        "ownerUserId": "u1",
        "parentId": "t0",
        "extra": {"keep_snake": None, "n": 3},  # free-form: stored as it is
        "place": {
            "line1": "1 Road",
            "city": "Leeds",
            "postalCode": "LS1 1AA",
            "country": "GB",
            "line2": "Flat 2",
        },
        "steps": (
            {"from": "new", "to": "done", "byUserId": "u1", "note": "ok"},
            {"from": "done", "to": "new"},
        ),
        "stampSeq": 7,
        "stampedAt": "2024-01-01",
        "tags": ("a", "b"),
        "sizeMinor": 1250,
        "version": 3,
    }
    assert THINGS.item(BARE) == {
        "id": "t2",
        "state": "new",
        "ownerUserId": "u1",
        "extra": {},
        "steps": (),
        "tags": (),
        "sizeMinor": 0,
        "version": 1,
    }


def test_an_item_reads_back_as_the_value_it_stores_through_dynamodb_types() -> None:
    for value in (FULL, BARE):
        stored = from_wire(to_wire(THINGS.item(value)))  # numbers travel as Decimal
        read = THINGS.read(stored)
        assert read == value
        assert isinstance(read.size_minor, int)
        assert isinstance(read.steps, tuple)


def test_absent_attributes_read_as_defaults_or_none_and_unknown_ones_are_ignored() -> None:
    item = {
        "id": "t3",
        "state": "new",
        "ownerUserId": "u1",
        "extra": {},
        "steps": [{"from": "new", "to": "done"}],
        "kind": "thing",  # an attribute the store adds beside the record
    }
    assert THINGS.read(item) == Thing(
        id="t3",
        state="new",
        owner_user_id="u1",
        parent_id=None,
        extra={},
        steps=(Step("new", "done", None),),
    )


def test_items_from_before_a_field_was_stored_read_its_declared_value() -> None:
    legacy = Record(Thing, names=STEPS, absent={"extra": {"old": True}, "size_minor": -1})
    item = {"id": "t4", "state": "new", "ownerUserId": "u1"}
    assert legacy.read(item).extra == {"old": True}
    assert legacy.read(item).size_minor == -1
    assert legacy.read({**item, "extra": {}, "sizeMinor": 5}).size_minor == 5


def test_an_embedded_record_is_absent_when_none_of_its_attributes_are() -> None:
    item = THINGS.item(FULL)
    assert THINGS.read({k: v for k, v in item.items() if k not in STAMPS.attributes}).stamp is None
    assert THINGS.attributes >= {"stampSeq", "stampedAt", "ownerUserId"}
    assert "stamp" not in THINGS.attributes


def test_reading_validates_the_field_types() -> None:
    item = THINGS.item(BARE)
    with pytest.raises(ValidationError):
        THINGS.read({**item, "state": "lost"})  # not one of the Literal's values
    with pytest.raises(ValidationError):
        THINGS.read({k: v for k, v in item.items() if k != "ownerUserId"})  # required
    with pytest.raises(ValidationError):
        THINGS.read({**item, "steps": [{"from": "new", "to": "gone"}]})  # nested too


def test_the_adapter_is_built_once_per_class_and_naming() -> None:
    again = Record(Thing, names=dict(STEPS), embedded={"stamp": STAMPS})
    assert again.item(FULL) == THINGS.item(FULL)
    assert _codec(Thing, tuple(sorted(STEPS.items()))) is _codec(
        Thing, tuple(sorted(STEPS.items()))
    )
    assert _codec.cache_info().currsize >= 2  # Thing under STEPS, Stamp under its names
