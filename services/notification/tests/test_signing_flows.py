"""A contract's signing deadline → the party concerned (issue 16): reminders
and a moved deadline to whoever must sign next, the expiry to both; each
event put on the bus as the contract service's relay puts it, then
EventBridge → SQS → consumer; once per recipient however often delivered."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev.harness import Running
from mindlinks_fleet.events import ContractExpired, Side, SigningDeadlineExtended, SigningReminder

if TYPE_CHECKING:
    from conftest import Account, Accounts

DEADLINE = "2030-02-15T10:00:00.000000Z"


class Pair:
    def __init__(self, client: Account, contractor: Account) -> None:
        self.client = client
        self.contractor = contractor
        self.contract_id = f"ct-{uuid.uuid4().hex[:8]}"

    def contract(self) -> dict[str, Any]:
        return {
            "contract_id": self.contract_id,
            "title": "Website redesign",
            "client_company_id": "co-1",
            "client_user_id": self.client.user_id,
            "contractor_id": "k-1",
            "contractor_user_id": self.contractor.user_id,
        }

    def account(self, side: Side) -> Account:
        return self.client if side == "client" else self.contractor

    def other(self, side: Side) -> Account:
        return self.contractor if side == "client" else self.client

    def reminder(self, side: Side, number: int, *, manual: bool = False) -> SigningReminder:
        return SigningReminder(
            **self.contract(),
            to_side=side,
            to_user_id=self.account(side).user_id,
            signing_deadline=DEADLINE,
            reminder_no=number,
            manual=manual,
        )


@pytest.fixture
async def pair(accounts: Accounts) -> Pair:
    return Pair(await accounts.create("client"), await accounts.create("contractor"))


@pytest.mark.parametrize("side", ["client", "contractor"])
async def test_a_reminder_reaches_whoever_signs_next_once(
    fleet: Running, accounts: Accounts, pair: Pair, side: Side
) -> None:
    event_id = await fleet.emit("contract.signing-reminder", pair.reminder(side, 1))
    [mail] = await accounts.mails(pair.account(side), "contract.signing-reminder")
    assert mail["subject"] == "Please sign “Website redesign” by 2030-02-15 10:00 UTC"
    assert mail["text"].startswith(
        f"Hello {pair.account(side).name},\n\nA reminder: please sign the contract "
        "“Website redesign” by 2030-02-15 10:00 UTC. Unsigned then, it expires"
    )
    assert f"/contracts/{pair.contract_id}" in mail["text"]
    assert len(await accounts.notes(pair.account(side), "contract.signing-reminder")) == 1
    assert await accounts.mails(pair.other(side), "contract.signing-reminder") == []

    await fleet.emit("contract.signing-reminder", pair.reminder(side, 1), event_id=event_id)
    assert len(await accounts.mails(pair.account(side), "contract.signing-reminder")) == 1
    assert len(await accounts.notes(pair.account(side), "contract.signing-reminder")) == 1


async def test_each_reminder_is_a_mail_of_its_own_and_says_who_asks(
    fleet: Running, accounts: Accounts, pair: Pair
) -> None:
    await fleet.emit("contract.signing-reminder", pair.reminder("contractor", 1))
    await fleet.emit("contract.signing-reminder", pair.reminder("contractor", 2, manual=True))
    both = await accounts.mails(pair.contractor, "contract.signing-reminder")
    openings = sorted(m["text"].split("\n\n")[1].split(" the contract")[0] for m in both)
    assert openings == ["A reminder: please sign", "Your client asks you to sign"]


async def test_a_moved_deadline_is_told_to_the_signer(
    fleet: Running, accounts: Accounts, pair: Pair
) -> None:
    extended = SigningDeadlineExtended(
        **pair.contract(),
        signing_deadline="2030-03-01T10:00:00.000000Z",
        previous_deadline=DEADLINE,
        by_user_id=pair.client.user_id,
        to_side="contractor",
        to_user_id=pair.contractor.user_id,
    )
    event_id = await fleet.emit("contract.signing-deadline-extended", extended)
    [mail] = await accounts.mails(pair.contractor, "contract.signing-deadline-extended")
    assert mail["subject"] == "More time to sign “Website redesign”: until 2030-03-01 10:00 UTC"
    assert "moved from 2030-02-15 10:00 UTC to 2030-03-01 10:00 UTC" in mail["text"]
    assert await accounts.mails(pair.client, "contract.signing-deadline-extended") == []
    await fleet.emit("contract.signing-deadline-extended", extended, event_id=event_id)
    assert len(await accounts.notes(pair.contractor, "contract.signing-deadline-extended")) == 1


@pytest.mark.parametrize("waiting_for", ["client", "contractor"])
async def test_an_expiry_reaches_both_parties(
    fleet: Running, accounts: Accounts, pair: Pair, waiting_for: Side
) -> None:
    expired = ContractExpired(
        **pair.contract(),
        signing_deadline=DEADLINE,
        expired_at=DEADLINE,
        waiting_for=waiting_for,
    )
    event_id = await fleet.emit("contract.expired", expired)
    [to_client] = await accounts.mails(pair.client, "contract.expired")
    [to_contractor] = await accounts.mails(pair.contractor, "contract.expired")
    assert to_client["subject"] == to_contractor["subject"] == "“Website redesign” expired unsigned"
    missing = {"client": "your signature", "contractor": "your contractor's signature"}
    if waiting_for == "contractor":
        assert f"passed without {missing['contractor']}." in to_client["text"]
        assert "passed without your signature." in to_contractor["text"]
    else:
        assert f"passed without {missing['client']}." in to_client["text"]
        assert "passed without your client's signature." in to_contractor["text"]
    assert "draft it again to start over" in to_client["text"]
    assert "draft it again" not in to_contractor["text"]
    await fleet.emit("contract.expired", expired, event_id=event_id)
    assert len(await accounts.mails(pair.client, "contract.expired")) == 1
    assert len(await accounts.notes(pair.contractor, "contract.expired")) == 1


async def test_opt_outs_apply_to_signing_mail(
    fleet: Running, accounts: Accounts, pair: Pair
) -> None:
    await accounts.set_preferences(pair.contractor, contractUpdates=False)
    await fleet.deliver()
    await fleet.emit("contract.signing-reminder", pair.reminder("contractor", 1))
    assert await accounts.mails(pair.contractor, "contract.signing-reminder") == []
    assert len(await accounts.notes(pair.contractor, "contract.signing-reminder")) == 1
