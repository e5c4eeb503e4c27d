"""Wire models: camelCase JSON for the JavaScript dashboards, snake_case in Python."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

T = TypeVar("T")


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


class Money(ApiModel):
    """Integer minor units with an ISO 4217 currency; never floats."""

    amount_minor: int
    currency: str


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
