"""The notification use cases: sending each notification at most once on
the channels ``domain.permitted_channels`` allows, and who may see and mark
in-app notifications. No FastAPI here; callers commit the unit of work.
"""

from __future__ import annotations

from typing import Protocol

import structlog

from mindlinks_fleet.events import UserCreated
from mindlinks_kit.clock import now_iso
from mindlinks_kit.dynamo import CursorCodec, Item, UnitOfWork
from mindlinks_kit.observability import Metrics
from mindlinks_kit.schemas import from_attributes
from mindlinks_notification.domain import (
    Addressee,
    InApp,
    NotificationChoices,
    NotificationNotFound,
    Outcome,
    Recipient,
    RecipientNotAUser,
    SendRequest,
    UnsupportedChannel,
    notification_id,
    permitted_channels,
)
from mindlinks_notification.providers import Mail, Mailer
from mindlinks_notification.templates import Rendered, TemplateCatalog

log = structlog.get_logger("mindlinks.notifications")


class Store(Protocol):
    def add(self, uow: UnitOfWork, notification: InApp) -> None: ...
    async def get(self, notification_id: str) -> InApp | None: ...
    async def page(
        self, user_id: str, limit: int, start: Item | None
    ) -> tuple[list[InApp], Item | None]: ...
    async def mark_read(self, notification_id: str, user_id: str, at: str) -> None: ...


class Directory(Protocol):
    async def notification_choices(self, user_id: str) -> NotificationChoices | None: ...


class Claims(Protocol):
    async def claim(self, key: str) -> bool: ...
    async def release(self, key: str) -> None: ...


class Notifier:
    def __init__(
        self,
        *,
        store: Store,
        catalog: TemplateCatalog,
        mailer: Mailer,
        directory: Directory,
        claims: Claims,
        cursors: CursorCodec,
        metrics: Metrics,
        dashboard_url: str,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.mailer = mailer
        self.directory = directory
        self.claims = claims
        self.cursors = cursors
        self.metrics = metrics
        self.dashboard_url = dashboard_url

    async def send(
        self, request: SendRequest, uow: UnitOfWork, addressee: Addressee | None = None
    ) -> Outcome:
        """Render and deliver. In-app is added to ``uow`` (a repeat fails its
        commit with ``AlreadyRecorded``); email is claimed in Redis first, so a
        repeat of the same request or event never mails twice. ``addressee``:
        the recipient's opt-ins as the caller just read them (else asked for)."""
        template = await self.catalog.get(request.template)
        unsupported = sorted(set(request.channels) - set(template.spec.channels))
        if unsupported:
            raise UnsupportedChannel(f"{request.template} is not sent by {', '.join(unsupported)}")
        if "inApp" in request.channels and not request.recipient.user_id:
            raise RecipientNotAUser()
        rendered = template.render(request.data)
        notification = notification_id(request.origin, request.dedupe_key)
        channels, reason = await self._permitted(request, addressee)
        if not channels:
            self.metrics.count("NotificationsSkipped", template=request.template)
            return Outcome(id=notification, channels=[], skipped=True, reason=reason)
        duplicate = False
        if "inApp" in channels:
            assert request.recipient.user_id is not None
            self.store.add(
                uow,
                InApp(
                    id=notification,
                    user_id=request.recipient.user_id,
                    created_at=now_iso(),
                    template=request.template,
                    title=rendered.subject,
                    body=rendered.text,
                    data=dict(request.data),
                ),
            )
        if "email" in channels:
            duplicate = not await self._email(notification, request, rendered)
        return Outcome(id=notification, channels=channels, duplicate=duplicate)

    async def _permitted(
        self, request: SendRequest, addressee: Addressee | None
    ) -> tuple[list[str], str | None]:
        choices = None
        user_id = request.recipient.user_id
        if not request.essential and request.category is not None and user_id:
            if addressee is not None and addressee.contact.user_id == user_id:
                choices = addressee.choices
            else:
                choices = await self.directory.notification_choices(user_id)
        return permitted_channels(
            request.channels,
            essential=request.essential,
            category=request.category,
            choices=choices,
        )

    async def _email(self, notification: str, request: SendRequest, rendered: Rendered) -> bool:
        if not await self.claims.claim(f"{notification}:email"):
            log.info("notification.duplicate_email", notification_id=notification)
            return False
        mail = Mail(
            id=notification,
            to_email=request.recipient.email,
            to_name=request.recipient.name,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            template=request.template,
            data=dict(request.data),
            essential=request.essential,
        )
        try:
            await self.mailer.send(mail)
        except BaseException:
            await self.claims.release(f"{notification}:email")  # let a retry send it
            raise
        self.metrics.count("EmailsSent", template=request.template)
        return True

    async def welcome(self, user: UserCreated, event_id: str, uow: UnitOfWork) -> Outcome:
        """``user.created`` → the welcome, in the app and by email, once per event."""
        return await self.send(
            SendRequest(
                template="user.welcome",
                origin="event:user.created",
                dedupe_key=event_id,
                recipient=from_attributes(Recipient, user),
                data={"name": user.name, "dashboardUrl": self.dashboard_url},
                channels=("email", "inApp"),
            ),
            uow,
        )

    async def page(
        self, user_id: str, limit: int, cursor: str | None
    ) -> tuple[list[InApp], str | None]:
        """The user's notifications, newest first; cursors only work for their list."""
        scope = f"notifications:{user_id}"
        items, last = await self.store.page(user_id, limit, self.cursors.decode(cursor, scope))
        return items, self.cursors.encode(last, scope)

    async def mark_read(self, user_id: str, notification: str) -> None:
        found = await self.store.get(notification)
        if found is None or found.user_id != user_id:
            raise NotificationNotFound()
        if found.read_at is None:
            await self.store.mark_read(notification, user_id, now_iso())
