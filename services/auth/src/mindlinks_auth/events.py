"""What auth publishes (the catalog is ``mindlinks_fleet.events``); it
consumes only the revocation events (the kit handles them). Each event joins
the unit of work of the change it reports."""

from __future__ import annotations

from mindlinks_auth.domain import Session, User
from mindlinks_fleet.events import SessionEnded, UserCreated, UserSuspended, UserUnsuspended
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.runtime import Runtime


def user_created(runtime: Runtime, uow: UnitOfWork, user: User) -> None:
    runtime.publish(
        uow,
        "user.created",
        UserCreated(user_id=user.id, email=user.email, name=user.name, role=user.role),
    )


def user_suspended(runtime: Runtime, uow: UnitOfWork, user: User, reason: str) -> None:
    runtime.publish(uow, "user.suspended", UserSuspended(user_id=user.id, reason=reason))


def user_unsuspended(runtime: Runtime, uow: UnitOfWork, user: User) -> None:
    runtime.publish(uow, "user.unsuspended", UserUnsuspended(user_id=user.id))


def session_ended(runtime: Runtime, uow: UnitOfWork, session: Session, reason: str) -> None:
    runtime.publish(
        uow,
        "session.ended",
        SessionEnded(session_id=session.id, user_id=session.user_id, reason=reason),
    )
