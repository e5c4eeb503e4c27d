"""``from_attributes``: a wire model's fields copied into a service's dataclass
of the same names, validated as pydantic validates a model from attributes."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass

import pytest
from pydantic import ValidationError

from mindlinks_kit.schemas import ApiModel, from_attributes


class ThingRecord(ApiModel):
    id: str
    owner_id: str
    label: str | None = None
    tags: list[str]
    size: int


@dataclass(frozen=True)
class Thing:
    id: str
    tags: tuple[str, ...]
    label: str | None = None
    colour: str = "grey"


RECORD = ThingRecord(id="t-1", owner_id="o-1", label="Box", tags=["a", "b"], size=3)


def test_the_fields_of_the_same_names_are_copied_and_the_rest_left_out() -> None:
    thing = from_attributes(Thing, RECORD)
    assert thing == Thing(id="t-1", tags=("a", "b"), label="Box")
    assert thing.colour == "grey"  # the record has none: the default
    with pytest.raises(FrozenInstanceError):
        thing.id = "t-2"  # type: ignore[misc]


def test_any_object_with_the_attributes_will_do() -> None:
    @dataclass
    class Row:
        id: str
        tags: list[str]

    assert from_attributes(Thing, Row("t-1", [])) == Thing(id="t-1", tags=())


def test_a_missing_or_mistyped_field_is_refused() -> None:
    @dataclass
    class NoTags:
        id: str

    @dataclass
    class NumberedId:
        id: int
        tags: list[str]

    with pytest.raises(ValidationError, match="tags"):
        from_attributes(Thing, NoTags("t-1"))
    with pytest.raises(ValidationError, match="id"):
        from_attributes(Thing, NumberedId(1, []))
