"""Outside services the notification service delivers through.

Mail: ``SendGridMailer`` (the real adapter, when a SendGrid key is configured)
and ``LocalMailbox`` (local mode: each mail is a JSON file a developer reads
through ``GET /v1/notifications/dev/mailbox``). Both implement ``Mailer``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from mindlinks_kit.errors import Problem


class MailDeliveryFailed(Problem):
    status = 502
    code = "mail-delivery-failed"
    title = "The mail provider did not accept the message"


@dataclass(frozen=True)
class Mail:
    id: str
    to_email: str
    to_name: str
    subject: str
    text: str
    html: str
    template: str
    data: Mapping[str, Any] = field(default_factory=dict)
    essential: bool = False
    """Security mail (verification, reset): never link-tracked."""


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None:
        """Hand the mail over for delivery; raise ``MailDeliveryFailed`` if refused."""
        ...
