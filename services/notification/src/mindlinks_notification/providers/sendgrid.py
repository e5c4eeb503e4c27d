"""The real mail adapter: SendGrid's v3 Mail Send API over the process's shared
async HTTP client (the SendGrid SDK is synchronous and owns its transport).

https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send
"""

from __future__ import annotations

from typing import Any

import httpx
import structlog

from mindlinks_kit.breaker import AsyncBreaker, CircuitOpen
from mindlinks_notification.providers import Mail, MailDeliveryFailed

log = structlog.get_logger("mindlinks.sendgrid")
SEND_PATH = "/v3/mail/send"


class _Unavailable(Exception):
    """Transport failure or 5xx: counts against the breaker."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SendGridMailer:
    """One attempt per mail: Mail Send is not idempotent, so a retry could
    send twice; the caller retries (with its dedupe key) or SQS redelivers."""

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        api_key: str,
        sender_email: str,
        sender_name: str,
        base_url: str = "https://api.sendgrid.com",
        timeout: float = 10.0,
        fail_max: int = 5,
        reset_timeout: float = 30.0,
    ) -> None:
        self.client = client
        self.url = base_url.rstrip("/") + SEND_PATH
        self.sender = {"email": sender_email, "name": sender_name}
        self.timeout = timeout
        self._headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        self.breaker = AsyncBreaker("sendgrid", fail_max, reset_timeout)

    def payload(self, mail: Mail) -> dict[str, Any]:
        body: dict[str, Any] = {
            "personalizations": [{"to": [{"email": mail.to_email, "name": mail.to_name}]}],
            "from": self.sender,
            "subject": mail.subject,
            # SendGrid requires text/plain before text/html.
            "content": [
                {"type": "text/plain", "value": mail.text},
                {"type": "text/html", "value": mail.html},
            ],
            "categories": [mail.template],
            "custom_args": {"notificationId": mail.id, "template": mail.template},
        }
        if mail.essential:
            # Never rewrite verification/reset links through a tracking domain.
            body["tracking_settings"] = {
                "click_tracking": {"enable": False, "enable_text": False},
                "open_tracking": {"enable": False},
            }
        return body

    async def send(self, mail: Mail) -> None:
        body = self.payload(mail)

        async def post() -> httpx.Response:
            try:
                response = await self.client.post(
                    self.url, json=body, headers=self._headers, timeout=self.timeout
                )
            except httpx.HTTPError as exc:
                raise _Unavailable(type(exc).__name__) from exc
            if response.status_code >= 500:
                raise _Unavailable(f"status {response.status_code}: {_errors(response)}")
            return response

        try:
            response = await self.breaker.call(post)
        except CircuitOpen:
            raise MailDeliveryFailed("SendGrid is unavailable (circuit open)") from None
        except _Unavailable as exc:
            log.warning("sendgrid.unavailable", notification_id=mail.id, reason=exc.reason)
            raise MailDeliveryFailed(f"SendGrid is unavailable ({exc.reason})") from None
        if response.status_code >= 400:
            reason = _errors(response)
            log.warning(
                "sendgrid.rejected",
                notification_id=mail.id,
                status=response.status_code,
                reason=reason,
            )
            raise MailDeliveryFailed(
                f"SendGrid rejected the mail ({response.status_code}): {reason}",
                providerStatus=response.status_code,
            )
        log.info(
            "sendgrid.accepted",
            notification_id=mail.id,
            template=mail.template,
            message_id=response.headers.get("x-message-id"),
        )


def _errors(response: httpx.Response) -> str:
    """SendGrid's error messages (``{"errors": [{"message", "field"}]}``), no more."""
    try:
        errors = response.json().get("errors") or []
        messages = [str(e.get("message", "")) for e in errors if isinstance(e, dict)]
    except (ValueError, AttributeError):
        messages = []
    return "; ".join(m for m in messages if m)[:500] or response.reason_phrase or "no detail"
