"""The escrow lifecycle and terminations → the party concerned (issue 15),
each event put on the bus as its producer's relay puts it, then EventBridge
→ SQS → consumer; once per recipient however often it is delivered."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev.harness import Running
from mindlinks_fleet.events import (
    ChangesRequested,
    ContractTerminated,
    ContractTerminationScheduled,
    EscrowDisputed,
    EscrowSettled,
    InvoiceIssued,
    PaymentRefunded,
    PaymentReleased,
    ReviewReminder,
    Side,
    WorkSubmitted,
)
from mindlinks_notification.domain import format_when, settled_sides

if TYPE_CHECKING:
    from conftest import Account, Accounts

DUE = "2030-02-15T10:00:00.000000Z"


class Pair:
    """A client and a contractor with an escrowed item between them."""

    def __init__(self, client: Account, contractor: Account) -> None:
        self.client = client
        self.contractor = contractor
        self.contract_id = f"ct-{uuid.uuid4().hex[:8]}"
        self.escrow_id = f"esc-{uuid.uuid4().hex[:8]}"

    def step(self) -> dict[str, Any]:
        return {
            "contract_id": self.contract_id,
            "item_id": f"{self.contract_id}-0",
            "escrow_id": self.escrow_id,
            "client_company_id": "co-1",
            "client_user_id": self.client.user_id,
            "contractor_id": "k-1",
            "contractor_user_id": self.contractor.user_id,
            "amount_minor": 150000,
            "currency": "EUR",
        }

    def contract(self) -> dict[str, Any]:
        return {
            "contract_id": self.contract_id,
            "title": "Website redesign",
            "client_company_id": "co-1",
            "client_user_id": self.client.user_id,
            "contractor_id": "k-1",
            "contractor_user_id": self.contractor.user_id,
        }

    def disputed(self, by: Side) -> EscrowDisputed:
        opener = self.client if by == "client" else self.contractor
        return EscrowDisputed(
            **self.step(),
            opened_by_user_id=opener.user_id,
            opened_by_side=by,
            reason="Not what we agreed",
            frozen_state="submitted",
        )

    def settled(self, outcome: Any, released: int, reason: str) -> EscrowSettled:
        return EscrowSettled(
            **self.step(),
            outcome=outcome,
            released_minor=released,
            refunded_minor=150000 - released,
            reason=reason,
            by_user_id=None,
            all_settled=True,
        )


@pytest.fixture
async def pair(accounts: Accounts) -> Pair:
    return Pair(await accounts.create("client"), await accounts.create("contractor"))


async def test_a_submission_asks_the_client_to_review_once_however_often_delivered(
    fleet: Running, accounts: Accounts, pair: Pair
) -> None:
    submitted = WorkSubmitted(
        **pair.step(),
        submission_no=2,
        submitted_by_user_id=pair.contractor.user_id,
        file_count=1,
        review_due_at=DUE,
    )
    event_id = await fleet.emit("payment.work-submitted", submitted)
    [mail] = await accounts.mails(pair.client, "escrow.work-submitted")
    assert mail["subject"] == "Work submitted for review: EUR 1,500.00"
    assert "submitted work again (submission 2)" in mail["text"]
    assert "by 2030-02-15 10:00 UTC" in mail["text"]
    assert f"/contracts/{pair.contract_id}" in mail["text"]
    assert len(await accounts.notes(pair.client, "escrow.work-submitted")) == 1
    assert await accounts.mails(pair.contractor, "escrow.work-submitted") == []

    await fleet.emit("payment.work-submitted", submitted, event_id=event_id)  # redelivered
    assert len(await accounts.mails(pair.client, "escrow.work-submitted")) == 1
    assert len(await accounts.notes(pair.client, "escrow.work-submitted")) == 1


async def test_changes_requested_tell_the_contractor_why(
    fleet: Running, accounts: Accounts, pair: Pair
) -> None:
    changes = ChangesRequested(
        **pair.step(),
        submission_no=1,
        requested_by_user_id=pair.client.user_id,
        reason="The footer is missing",
    )
    event_id = await fleet.emit("payment.changes-requested", changes)
    [mail] = await accounts.mails(pair.contractor, "escrow.changes-requested")
    assert "Your client asked for changes before releasing EUR 1,500.00" in mail["text"]
    assert "The footer is missing" in mail["text"]
    assert await accounts.mails(pair.client, "escrow.changes-requested") == []
    await fleet.emit("payment.changes-requested", changes, event_id=event_id)
    assert len(await accounts.mails(pair.contractor, "escrow.changes-requested")) == 1


async def test_reminders_go_to_the_client(fleet: Running, accounts: Accounts, pair: Pair) -> None:
    for days_left in (7, 1):
        reminder = ReviewReminder(**pair.step(), review_due_at=DUE, days_left=days_left)
        await fleet.emit("payment.review-reminder", reminder)
    one_day, seven_days = await accounts.mails(pair.client, "escrow.review-reminder")
    assert seven_days["subject"] == "7 days left to review the work"
    assert one_day["subject"] == "1 day left to review the work"
    assert "the EUR 1,500.00 held in escrow is released to the contractor" in one_day["text"]
    assert await accounts.mails(pair.contractor, "escrow.review-reminder") == []


@pytest.mark.parametrize("by", ["client", "contractor"])
async def test_a_dispute_tells_the_other_party(
    fleet: Running, accounts: Accounts, pair: Pair, by: Side
) -> None:
    await fleet.emit("payment.disputed", pair.disputed(by))
    opener, other = (
        (pair.client, pair.contractor) if by == "client" else (pair.contractor, pair.client)
    )
    [mail] = await accounts.mails(other, "escrow.disputed")
    assert mail["subject"] == f"Your {by} opened a dispute"
    assert "Not what we agreed" in mail["text"]
    assert "frozen, until a Mind-Links admin resolves the dispute" in mail["text"]
    assert await accounts.mails(opener, "escrow.disputed") == []


@pytest.mark.parametrize(
    ("reason", "to_client", "to_contractor"),
    [
        (
            "approved",
            "You released EUR 1,500.00 to your contractor.",
            "Your client released EUR 1,500.00 to you; it is on its way to your bank account.",
        ),
        (
            "auto-release",
            "EUR 1,500.00 was released to your contractor: the client's review period ended "
            "without an answer.",
            "EUR 1,500.00 was released to you: the client's review period ended without an "
            "answer; it is on its way to your bank account.",
        ),
        (
            "dispute",
            "EUR 1,500.00 was released to your contractor by a Mind-Links admin's resolution "
            "of the dispute.",
            "EUR 1,500.00 was released to you by a Mind-Links admin's resolution of the "
            "dispute; it is on its way to your bank account.",
        ),
    ],
)
async def test_a_release_says_how_it_happened(
    fleet: Running, accounts: Accounts, pair: Pair, reason: str, to_client: str, to_contractor: str
) -> None:
    s = pair.step()
    released = PaymentReleased(
        contract_id=s["contract_id"],
        item_id=s["item_id"],
        escrow_id=pair.escrow_id,
        transfer_id="tr_1",
        client_user_id=pair.client.user_id,
        contractor_user_id=pair.contractor.user_id,
        contractor_id="k-1",
        amount_minor=150000,
        currency="EUR",
        all_released=False,
        reason=reason,
    )
    await fleet.emit("payment.released", released)
    [client_mail] = await accounts.mails(pair.client, "payment.released")
    [contractor_mail] = await accounts.mails(pair.contractor, "payment.released")
    assert to_client in client_mail["text"]
    assert to_contractor in contractor_mail["text"]


async def test_a_refund_tells_the_client(fleet: Running, accounts: Accounts, pair: Pair) -> None:
    refunded = PaymentRefunded(
        **pair.step(), refund_id="re_1", refunded_minor=150000, reason="terminated"
    )
    await fleet.emit("payment.refunded", refunded)
    [mail] = await accounts.mails(pair.client, "escrow.refunded")
    assert mail["subject"] == "EUR 1,500.00 refunded to you"
    assert "refunded to you, as the contract was terminated." in mail["text"]
    assert await accounts.mails(pair.contractor, "escrow.refunded") == []


async def test_a_settlement_tells_whom_no_other_mail_told(
    fleet: Running, accounts: Accounts
) -> None:
    resolved = Pair(await accounts.create("client"), await accounts.create("contractor"))
    await fleet.emit("payment.item-settled", resolved.settled("split", 100000, "dispute"))
    [mail] = await accounts.mails(resolved.contractor, "escrow.settled")
    assert mail["text"].count("A Mind-Links admin resolved the dispute") == 1
    assert "EUR 1,000.00 went to the contractor and EUR 500.00 back to the client" in mail["text"]
    assert "Every payment of this contract is now settled." in mail["text"]
    # payment.released and payment.refunded told the client both parts.
    assert await accounts.mails(resolved.client, "escrow.settled") == []

    cancelled = Pair(await accounts.create("client"), await accounts.create("contractor"))
    await fleet.emit("payment.item-settled", cancelled.settled("cancelled", 0, "terminated"))
    for account in (cancelled.client, cancelled.contractor):
        [mail] = await accounts.mails(account, "escrow.settled")
        assert "it was cancelled before it was funded" in mail["text"]

    approved = Pair(await accounts.create("client"), await accounts.create("contractor"))
    await fleet.emit("payment.item-settled", approved.settled("released", 150000, "approved"))
    for account in (approved.client, approved.contractor):  # payment.released told them
        assert await accounts.mails(account, "escrow.settled") == []

    refunded = Pair(await accounts.create("client"), await accounts.create("contractor"))
    await fleet.emit("payment.item-settled", refunded.settled("refunded", 0, "terminated"))
    assert await accounts.mails(refunded.client, "escrow.settled") == []  # payment.refunded did
    [mail] = await accounts.mails(refunded.contractor, "escrow.settled")
    assert "all EUR 1,500.00 went back to the client" in mail["text"]


async def test_an_invoice_reaches_both_parties(
    fleet: Running, accounts: Accounts, pair: Pair
) -> None:
    invoice = InvoiceIssued(
        invoice_id="inv-1",
        number="K1-0007",
        escrow_id=pair.escrow_id,
        contract_id=pair.contract_id,
        contractor_id="k-1",
        contractor_user_id=pair.contractor.user_id,
        client_company_id="co-1",
        client_user_id=pair.client.user_id,
        amount_minor=150000,
        currency="EUR",
        pdf_sha256="a" * 64,
        issued_at=DUE,
    )
    await fleet.emit("payment.invoice-issued", invoice)
    [to_client] = await accounts.mails(pair.client, "escrow.invoice-issued")
    [to_contractor] = await accounts.mails(pair.contractor, "escrow.invoice-issued")
    assert to_client["subject"] == to_contractor["subject"] == "Invoice K1-0007 for EUR 1,500.00"
    assert "Your contractor's invoice K1-0007" in to_client["text"]
    assert "Invoice K1-0007 to your client" in to_contractor["text"]


async def test_a_termination_reaches_both_parties(
    fleet: Running, accounts: Accounts, pair: Pair
) -> None:
    scheduled = ContractTerminationScheduled(
        **pair.contract(),
        by_user_id=pair.contractor.user_id,
        by_side="contractor",
        reason="Moving abroad",
        notice_days=14,
        ends_at="2030-03-01T00:00:00.000000Z",
    )
    await fleet.emit("contract.termination-scheduled", scheduled)
    [to_client] = await accounts.mails(pair.client, "contract.termination-scheduled")
    [to_contractor] = await accounts.mails(pair.contractor, "contract.termination-scheduled")
    assert to_client["subject"] == "“Website redesign” ends on 2030-03-01 00:00 UTC"
    assert to_client["text"].startswith(f"Hello {pair.client.name},\n\nYour contractor gave notice")
    assert "You gave notice" in to_contractor["text"]
    assert "Reason: Moving abroad" in to_client["text"]

    ended = ContractTerminated(
        **pair.contract(),
        by_user_id=pair.contractor.user_id,
        by_side="contractor",
        reason="Moving abroad",
        notice_days=14,
        ended_at="2030-03-01T00:00:00.000000Z",
    )
    event_id = await fleet.emit("contract.terminated", ended)
    [to_client] = await accounts.mails(pair.client, "contract.terminated")
    [to_contractor] = await accounts.mails(pair.contractor, "contract.terminated")
    assert "is terminated by your contractor." in to_client["text"]
    assert "is terminated at your request." in to_contractor["text"]
    await fleet.emit("contract.terminated", ended, event_id=event_id)
    assert len(await accounts.mails(pair.client, "contract.terminated")) == 1
    assert len(await accounts.notes(pair.contractor, "contract.terminated")) == 1


async def test_opt_outs_apply_to_escrow_and_termination_mail(
    fleet: Running, accounts: Accounts, pair: Pair
) -> None:
    await accounts.set_preferences(pair.client, paymentUpdates=False, contractUpdates=False)
    await fleet.deliver()
    await fleet.emit("payment.disputed", pair.disputed("contractor"))
    ended = ContractTerminated(
        **pair.contract(),
        by_user_id=pair.contractor.user_id,
        by_side="contractor",
        reason="Moving abroad",
        notice_days=0,
        ended_at="2030-03-01T00:00:00.000000Z",
    )
    await fleet.emit("contract.terminated", ended)
    assert await accounts.mails(pair.client, "escrow.disputed") == []
    assert await accounts.mails(pair.client, "contract.terminated") == []
    assert len(await accounts.notes(pair.client, "escrow.disputed")) == 1  # in-app stays
    assert len(await accounts.mails(pair.contractor, "contract.terminated")) == 1


@pytest.mark.parametrize(
    ("outcome", "sides"),
    [
        ("released", ()),
        ("refunded", ("contractor",)),
        ("split", ("contractor",)),
        ("cancelled", ("client", "contractor")),
    ],
)
def test_who_hears_of_a_settlement(outcome: str, sides: tuple[str, ...]) -> None:
    assert settled_sides(outcome) == sides


def test_times_read_in_utc() -> None:
    assert format_when("2030-02-15T10:00:00.000000Z") == "2030-02-15 10:00 UTC"
    assert format_when("2030-02-15T12:30:00+02:00") == "2030-02-15 10:30 UTC"
    assert format_when("2030-02-15") == "2030-02-15"
    assert format_when("soon") == "soon"
