"""The notification service's internal API: send a notification on a
peer's behalf (essential mail, invitations)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import EmailStr, Field, StringConstraints, model_validator

from mindlinks_kit.declaration import Call
from mindlinks_kit.schemas import ONE_LINE, ApiModel, Id

Channel = Literal["email", "inApp"]
Category = Literal["productUpdates", "contractUpdates", "paymentUpdates", "marketing"]
TemplateName = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9-]+(\.[a-z0-9-]+)+$", max_length=100)
]


def _email_only() -> list[Channel]:
    return ["email"]


class RecipientIn(ApiModel):
    user_id: Id | None = None
    email: EmailStr
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE
    ]


class SendNotification(ApiModel):
    template: TemplateName
    recipient: RecipientIn
    data: dict[str, Any] = Field(default_factory=dict)
    essential: bool = False
    """Security mail (verification, password reset): sent whatever the opt-outs."""
    category: Category | None = None
    channels: list[Channel] = Field(default_factory=_email_only, min_length=1, max_length=2)
    dedupe_key: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None

    @model_validator(mode="after")
    def _coherent(self) -> SendNotification:
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("channels must not repeat")
        if self.essential and self.category == "marketing":
            raise ValueError("marketing is never essential")
        return self


class SendResult(ApiModel):
    id: str
    skipped: bool = False
    reason: str | None = None
    channels: list[str]
    """The channels it went out on (the others were opted out of)."""
    duplicate: bool = False


SEND = Call(
    "notification",
    "POST",
    "/internal/notifications/send",
    SendResult,
    callers=("auth", "client"),
    body=SendNotification,
    status=202,
    summary="Send a notification; dedupeKey or Idempotency-Key makes a repeat a no-op.",
)

ROUTES = (SEND,)
