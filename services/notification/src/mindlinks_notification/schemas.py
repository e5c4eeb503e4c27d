"""The notification service's request and response bodies (camelCase on the wire)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import EmailStr, Field, StringConstraints, model_validator

from mindlinks_kit.schemas import ONE_LINE, ApiModel, Id
from mindlinks_notification.domain import Category, Channel, InApp, Outcome

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

    @classmethod
    def of(cls, outcome: Outcome) -> SendResult:
        return cls(
            id=outcome.id,
            skipped=outcome.skipped,
            reason=outcome.reason,
            channels=outcome.channels,
            duplicate=outcome.duplicate,
        )


class NotificationOut(ApiModel):
    id: str
    template: str
    title: str
    body: str
    data: dict[str, Any]
    created_at: str
    read_at: str | None

    @classmethod
    def of(cls, n: InApp) -> NotificationOut:
        return cls(
            id=n.id,
            template=n.template,
            title=n.title,
            body=n.body,
            data=dict(n.data),
            created_at=n.created_at,
            read_at=n.read_at,
        )


class MailboxEntry(ApiModel):
    id: str
    to: str
    subject: str
    text: str
    html: str
    template: str
    data: dict[str, Any]
    sent_at: str


class Mailbox(ApiModel):
    items: list[MailboxEntry]
