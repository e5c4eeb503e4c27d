"""Wire models: camelCase JSON for the JavaScript dashboards, snake_case in Python.

And the input types every service shares, so one rule holds fleet-wide and is
visible in the OpenAPI document (a generated client sends only what is accepted):
``Id`` for every id (path, query, body), ``Text``/``LongText`` for free text
another party will see, ``Limit`` and ``Cursor`` for ``?limit=&cursor=``.

And ``from_attributes``: one object's fields copied into a dataclass of the
same field names (a wire answer into a service's value, a request into one),
as ``Model.model_validate(x, from_attributes=True)`` does for a model.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar, cast

from fastapi import Query
from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    TypeAdapter,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T")
D = TypeVar("D", bound="DataclassInstance")

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
"""Every object id of the fleet (uuid hex, ``txn_…``, Stripe ids): the same
bound in every service, so an id one service takes is one its peers take too."""

CURSOR_PATTERN = r"^[A-Za-z0-9_-]{24,2048}$"
Cursor = Annotated[
    str | None,
    Query(
        max_length=2048,
        description="The `nextCursor` of the previous page, as it was sent (signed base64url)",
        # Documented, not enforced here: the codec refuses anything else with
        # its own stable code (422 ``invalid-cursor``), pattern-shaped or not.
        json_schema_extra={"pattern": CURSOR_PATTERN},
    ),
]
"""``?cursor=``: what ``CursorCodec.encode`` makes (base64url of at least 18 bytes)."""

Limit = Annotated[int, Query(ge=1, le=100)]
"""``?limit=``: how many items a page holds at most (each route sets its default)."""

# Unicode Cc (C0, DEL, C1) and the bidirectional marks, embeddings, overrides
# and isolates, which reorder what a reader sees ("exe.pdf" shown for
# "fdp.exe"). Written once as a pattern that Python, pydantic-core (Rust) and
# ECMAScript (JSON Schema) read alike.
_BIDI = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_TEXT_EXCLUDED = rf"\x00-\x1f\x7f-\x9f{_BIDI}"
_LONG_TEXT_EXCLUDED = rf"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}"
TEXT_PATTERN = rf"^[^{_TEXT_EXCLUDED}]*$"
LONG_TEXT_PATTERN = rf"^[^{_LONG_TEXT_EXCLUDED}]*$"
# What a required text field (``min_length`` >= 1, whitespace stripped first)
# documents: at least one character that is not white space, so the schema
# does not promise that "   " is accepted (the service strips it to "" and
# refuses it). ECMAScript's ``\s`` is a superset of what the stripping removes
# (it adds U+FEFF), so a string this admits is never blank once stripped.
FILLED_TEXT_PATTERN = rf"^[^{_TEXT_EXCLUDED}]*[^{_TEXT_EXCLUDED}\s][^{_TEXT_EXCLUDED}]*$"
FILLED_LONG_TEXT_PATTERN = (
    rf"^[^{_LONG_TEXT_EXCLUDED}]*[^{_LONG_TEXT_EXCLUDED}\s][^{_LONG_TEXT_EXCLUDED}]*$"
)


@dataclass(frozen=True)
class _Displayable:
    """Refuses what ``pattern`` excludes with a readable message, normalises to
    NFC (one spelling of each character: stored, compared and shown alike) and
    puts ``pattern`` in the JSON schema, where a generated client finds it
    (``filled`` where the field must not be blank)."""

    pattern: str
    filled: str
    refused: str

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        allowed = re.compile(self.pattern)

        def check(value: str) -> str:
            if not allowed.match(value):
                raise ValueError(f"must not contain {self.refused}")
            return unicodedata.normalize("NFC", value)

        return core_schema.no_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        document = handler(schema)
        least = document.get("minLength", 0)
        if least >= 2:
            document["pattern"] = self.at_least(least)
        else:
            document["pattern"] = self.filled if least == 1 else self.pattern
        return document

    def at_least(self, length: int) -> str:
        """``length`` characters or more once stripped: from the first to the
        last character that is not white space (spaces around them allowed).
        Narrower than what the service takes (tabs around, say), never wider."""
        excluded = self.pattern.removeprefix("^[^").removesuffix("]*$")
        inner = f"[^{excluded}]{{{length - 2},}}"
        return rf"^ *[^{excluded}\s]{inner}[^{excluded}\s] *$"


ONE_LINE = _Displayable(
    TEXT_PATTERN, FILLED_TEXT_PATTERN, "control characters, line breaks or bidirectional controls"
)
MULTI_LINE = _Displayable(
    LONG_TEXT_PATTERN, FILLED_LONG_TEXT_PATTERN, "control characters or bidirectional controls"
)


def one_line_without(characters: str, named: str) -> _Displayable:
    """``ONE_LINE`` that also refuses ``characters`` (a regex character-class
    body, e.g. ``r'/\\:'``), in one pattern the JSON schema shows whole."""
    excluded = _TEXT_EXCLUDED + characters
    return _Displayable(
        rf"^[^{excluded}]*$",
        rf"^[^{excluded}]*[^{excluded}\s][^{excluded}]*$",
        f"control characters, line breaks, bidirectional controls or {named}",
    )


# With other constraints, put these last: ``Annotated[str, StringConstraints(
# strip_whitespace=True, max_length=200), ONE_LINE]``; constraints after them
# would be checked before the whitespace is stripped.

Text = Annotated[str, ONE_LINE]
"""One line of free text shown to another party (names, titles, reasons)."""

LongText = Annotated[str, MULTI_LINE]
"""Multi-line free text shown to another party (contract bodies, messages):
as ``Text``, but tab, line feed and carriage return are allowed."""


EMAIL_PATTERN = (
    r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
EMAIL_SCHEMA = WithJsonSchema(
    {"type": "string", "format": "email", "maxLength": 320, "pattern": EMAIL_PATTERN}
)
"""What an email field documents (``Annotated[str, ..., EMAIL_SCHEMA]``): the
common address shape, a subset of what the services' email validation takes,
so a generated client's addresses are accepted."""


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        serialize_by_alias=True,
    )


class Page(ApiModel, Generic[T]):
    """A page of a list: ``?limit=&cursor=`` → ``{"items": [...], "nextCursor": ...}``."""

    items: list[T]
    next_cursor: str | None = None


class FieldError(BaseModel):
    location: list[str]
    message: str
    type: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every error response is rendered."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    errors: list[FieldError] | None = None


@cache
def _adapter(kind: type[Any]) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def from_attributes(kind: type[D], source: object) -> D:
    """A ``kind`` (a dataclass) of ``source``'s attributes named as its fields,
    validated by pydantic (a list becomes a declared tuple; a value of the
    wrong type is refused). What ``Model.model_validate(source,
    from_attributes=True)`` does for a model, which pydantic does not do for a
    dataclass (pydantic#9805). A field ``source`` has no attribute for takes
    its default. Flat: a nested dataclass field is given as one already. A
    copy that renames or computes a field is written out where it is made."""
    values = {
        field.name: getattr(source, field.name)
        for field in fields(kind)
        if field.init and hasattr(source, field.name)
    }
    return cast(D, _adapter(kind).validate_python(values))
