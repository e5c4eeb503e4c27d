"""The envelope every event travels in.

EventBridge ``source`` = ``mindlinks.<service>``, ``detail-type`` = the event
name, ``detail`` = ``{id, occurredAt, version, correlationId, data}``.
"""

from __future__ import annotations

import uuid
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from mindlinks_kit.clock import now_iso
from mindlinks_kit.schemas import ApiModel

P = TypeVar("P", bound=BaseModel)
SOURCE_PREFIX = "mindlinks."


class Detail(ApiModel):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    occurred_at: str = Field(default_factory=now_iso)
    version: int = 1
    correlation_id: str | None = None
    data: dict[str, Any]


class Delivered(Generic[P]):
    """An event as a consumer's handler receives it: envelope plus typed payload."""

    def __init__(self, name: str, source: str, detail: Detail, payload: P) -> None:
        self.name = name
        self.source = source
        self.detail = detail
        self.payload = payload

    @property
    def id(self) -> str:
        return self.detail.id
