"""Company membership changes → the member concerned, through the real event
path (the client service's outbox, EventBridge, SQS, the consumer): added,
re-roled, removed (or left); never the registering owner's own joining."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev.harness import Running
from mindlinks_dev.pytest_plugin import StartServices
from mindlinks_fleet.events import CompanyMemberChanged
from mindlinks_notification.service.teams import registering_owner

if TYPE_CHECKING:
    from conftest import Account, Accounts


@pytest.fixture(scope="module")
async def fleet(start_services: StartServices) -> AsyncIterator[Running]:
    async with start_services("auth", "user", "notification", "client") as running:
        yield running


async def emit(fleet: Running, name: str, **fields: Any) -> str:
    """Publish from the client service's outbox and deliver."""
    runtime = fleet.runtime("client")
    uow = runtime.uow()
    payload = CompanyMemberChanged(company_id="co-1", company_name="Acme Widgets Ltd", **fields)
    detail = runtime.publish(uow, name, payload)
    await uow.commit()
    await fleet.deliver()
    return detail.id


async def received(accounts: Accounts, account: Account, template: str) -> list[dict[str, Any]]:
    return [m for m in await accounts.mailbox(account.email) if m["template"] == template]


async def test_a_new_member_is_told_which_company_and_role(
    fleet: Running, accounts: Accounts
) -> None:
    member = await accounts.create("client", name="Grace Hopper")
    event_id = await emit(
        fleet,
        "company.member-added",
        user_id=member.user_id,
        role="finance",
        previous_role=None,
        actor_user_id=member.user_id,
    )
    [mail] = await received(accounts, member, "company.member-added")
    assert mail["subject"] == "You joined Acme Widgets Ltd on Mind-Links"
    assert "as finance" in mail["text"]
    assert "Grace Hopper" in mail["text"]
    in_app = await accounts.in_app(member)
    assert [n["template"] for n in in_app].count("company.member-added") == 1
    # A redelivery neither mails nor lists twice.
    await fleet.redeliver("client", event_id)
    assert len(await received(accounts, member, "company.member-added")) == 1


async def test_the_registering_owner_is_not_told_they_joined(
    fleet: Running, accounts: Accounts
) -> None:
    owner = await accounts.create("client")
    await emit(
        fleet,
        "company.member-added",
        user_id=owner.user_id,
        role="owner",
        previous_role=None,
        actor_user_id=owner.user_id,
    )
    assert await received(accounts, owner, "company.member-added") == []
    # Made an owner by someone else: told.
    other = await accounts.create("client")
    await emit(
        fleet,
        "company.member-added",
        user_id=other.user_id,
        role="owner",
        previous_role=None,
        actor_user_id=owner.user_id,
    )
    assert len(await received(accounts, other, "company.member-added")) == 1


async def test_a_role_change_and_a_removal_reach_the_member_despite_opt_outs(
    fleet: Running, accounts: Accounts
) -> None:
    member = await accounts.create("client")
    admin = await accounts.create("client")
    await accounts.set_preferences(member, productUpdates=False)
    await fleet.deliver()
    await emit(
        fleet,
        "company.member-role-changed",
        user_id=member.user_id,
        role="admin",
        previous_role="viewer",
        actor_user_id=admin.user_id,
    )
    [changed] = await received(accounts, member, "company.member-role-changed")
    assert changed["subject"] == "Your role in Acme Widgets Ltd is now admin"
    assert "from viewer to admin" in changed["text"]
    await emit(
        fleet,
        "company.member-removed",
        user_id=member.user_id,
        role=None,
        previous_role="admin",
        actor_user_id=admin.user_id,
    )
    [removed] = await received(accounts, member, "company.member-removed")
    assert removed["subject"] == "You are no longer a member of Acme Widgets Ltd"
    assert "you left" not in removed["text"]
    assert await received(accounts, admin, "company.member-removed") == []


async def test_leaving_says_so(fleet: Running, accounts: Accounts) -> None:
    member = await accounts.create("client")
    await emit(
        fleet,
        "company.member-removed",
        user_id=member.user_id,
        role=None,
        previous_role="viewer",
        actor_user_id=member.user_id,
    )
    [mail] = await received(accounts, member, "company.member-removed")
    assert "you left the company" in mail["text"]


def test_only_the_registering_owner_is_skipped() -> None:
    def change(role: str | None, previous: str | None, actor: str) -> CompanyMemberChanged:
        return CompanyMemberChanged(
            company_id="c",
            company_name="C",
            user_id="u",
            role=role,
            previous_role=previous,
            actor_user_id=actor,
        )

    assert registering_owner(change("owner", None, "u"))
    assert not registering_owner(change("owner", None, "someone"))
    assert not registering_owner(change("admin", None, "u"))
    assert not registering_owner(change("owner", "admin", "u"))
