"""The notification service's request and response bodies (camelCase on the wire)."""

from __future__ import annotations

from typing import Any

from mindlinks_fleet.internal.notification import SendResult
from mindlinks_kit.schemas import ApiModel
from mindlinks_notification.domain import InApp, Outcome


def send_result(outcome: Outcome) -> SendResult:
    return SendResult.model_validate(outcome, from_attributes=True)


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
