"""Frozen dataclasses as DynamoDB items, one way for every table.

An item's attributes are its dataclass's fields named in camelCase
(``created_by_user_id`` → ``createdByUserId``); a dataclass inside it is a map
named the same way. ``None`` is left out at every level, so an attribute or a
map key that is absent reads as the field's default, or as ``None`` for a
field that may be ``None`` (sparse indexes rely on absent attributes).
Reading validates the item against the field types: a ``Literal`` status
holds one of its values, a tuple comes back a tuple, and numbers are ``int``
(``from_wire`` already turned DynamoDB's ``Decimal`` into ``int`` or
``float``). Free-form ``dict`` fields are stored as they are.

Since the names come from the code, renaming a field renames the stored
attribute: ``tests/fleet/test_stored_layouts.py`` pins every table's.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import ConfigDict, TypeAdapter
from pydantic.alias_generators import to_camel
from pydantic_core import SchemaValidator

from mindlinks_kit.dynamo import Item

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


@dataclass(frozen=True)
class _Codec:
    """How one dataclass under one naming is written (``adapter``) and read
    (``validator``), as the only member of a tuple."""

    adapter: TypeAdapter[Any]
    validator: SchemaValidator


@cache
def _codec(cls: type[Any], names: tuple[tuple[str, str], ...]) -> _Codec:
    """Built once per dataclass and naming, on first use (the domain's
    annotations resolve then, not at import)."""
    config = ConfigDict(alias_generator=_naming(dict(names)), serialize_by_alias=True)
    # A TypeAdapter refuses a config for a dataclass itself, while a plain
    # dataclass takes its config from the type around it (pydantic#10917):
    # hence the one-tuple around it.
    adapter = TypeAdapter(tuple[cls], config=config)  # type: ignore[valid-type]
    schema = copy.deepcopy(adapter.core_schema)
    _absent_reads_none(schema)
    return _Codec(adapter, SchemaValidator(schema))


def _absent_reads_none(schema: Any) -> None:
    """A field that may be ``None`` but has no default reads an absent
    attribute as ``None`` (it was left out because it was ``None``), at
    every depth of the schema."""
    if isinstance(schema, list):
        for part in schema:
            _absent_reads_none(part)
    elif isinstance(schema, dict):
        if schema.get("type") == "dataclass-field" and schema["schema"]["type"] == "nullable":
            schema["schema"] = {"type": "default", "schema": schema["schema"], "default": None}
        for part in schema.values():
            _absent_reads_none(part)


def _naming(names: Mapping[str, str]) -> Callable[[str], str]:
    def stored(field: str) -> str:
        return names.get(field) or to_camel(field)

    return stored


class Record(Generic[T]):
    """How one frozen dataclass is stored.

    - ``names``: field → stored attribute name, for the few that are not the
      field's camelCase; it applies to the fields of the dataclasses inside
      too (entries of a list of maps storing ``from_status`` as ``from``).
    - ``embedded``: fields whose own record is stored in this item's top level
      rather than as a map (its ``seq`` as ``ledgerSeq`` beside the item's
      own attributes); an optional one reads as absent when none of its
      attributes are there.
    - ``absent``: field → value read when an item written before the field
      was stored lacks it, where that is not the field's default.
    """

    def __init__(
        self,
        cls: type[T],
        *,
        names: Mapping[str, str] | None = None,
        embedded: Mapping[str, Record[Any]] | None = None,
        absent: Mapping[str, Any] | None = None,
    ) -> None:
        self.cls = cls
        self._names = tuple(sorted((names or {}).items()))
        self._embedded = dict(embedded or {})
        stored = _naming(dict(self._names))
        self._embedded_as = {field: stored(field) for field in self._embedded}
        self._absent = {stored(field): value for field, value in (absent or {}).items()}
        own = [stored(f.name) for f in dataclasses.fields(cls) if f.name not in self._embedded]
        self.attributes: frozenset[str] = frozenset(own).union(
            *(record.attributes for record in self._embedded.values())
        )
        """Every top-level attribute this record may store."""

    def item(self, value: T) -> Item:
        """The item for ``value``, without ``None`` anywhere."""
        excluded = {0: set(self._embedded)} if self._embedded else None
        codec = _codec(self.cls, self._names)
        item: Item = codec.adapter.dump_python((value,), exclude=excluded, exclude_none=True)[0]
        for field, record in self._embedded.items():
            inner = getattr(value, field)
            if inner is not None:
                item.update(record.item(inner))
        return item

    def read(self, item: Item) -> T:
        """The value stored as ``item`` (attributes it does not know are ignored)."""
        stored = {**self._absent, **item}
        for field, record in self._embedded.items():
            attribute = self._embedded_as[field]
            stored.pop(attribute, None)  # may be one of the embedded record's own
            if not record.attributes.isdisjoint(item):
                stored[attribute] = record.read(item)
        value: T = _codec(self.cls, self._names).validator.validate_python((stored,))[0]
        return value
