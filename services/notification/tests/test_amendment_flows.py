"""An amendment's life → the party concerned (issue 16, ADR 0017): the
proposal and the client's signature to the contractor, a decline to the
other party, a withdrawal to the contractor, the amendment in force to both
and to the client company's webhook endpoints; each event put on the bus as
its producer's relay puts it, then EventBridge → SQS → consumer; once per
recipient however often delivered."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mindlinks_dev.harness import Running
from mindlinks_dev.parties import Parties
from mindlinks_dev.pytest_plugin import StartServices
from mindlinks_dev.stand_ins import Directory
from mindlinks_fleet.events import (
    AmendmentDeclined,
    AmendmentProposed,
    AmendmentSignatureRecorded,
    AmendmentWithdrawn,
    ContractAmended,
    ScheduleItem,
    Side,
)
from mindlinks_notification.webhooks.schemas import CreateEndpoint

if TYPE_CHECKING:
    from conftest import Account, Accounts, Receiver

AMENDED_AT = "2030-02-15T10:00:00.000000Z"
WEBHOOKS = "/v1/notifications/webhooks"
DOC = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"


@pytest.fixture(scope="module")
async def fleet(start_services: StartServices) -> AsyncIterator[Running]:
    """auth, user and notification, and client for the webhook endpoints' company."""
    async with start_services("auth", "user", "client", "notification") as running:
        yield running


class Pair:
    """A client and a contractor with an active contract under amendment 2."""

    def __init__(self, client: Account, contractor: Account, company_id: str = "co-1") -> None:
        self.client = client
        self.contractor = contractor
        self.company_id = company_id
        self.contract_id = f"ct-{uuid.uuid4().hex[:8]}"

    def contract(self) -> dict[str, Any]:
        return {
            "contract_id": self.contract_id,
            "title": "Website redesign",
            "client_company_id": self.company_id,
            "client_user_id": self.client.user_id,
            "contractor_id": "k-1",
            "contractor_user_id": self.contractor.user_id,
        }

    def account(self, side: Side) -> Account:
        return self.client if side == "client" else self.contractor

    def other(self, side: Side) -> Account:
        return self.contractor if side == "client" else self.client

    def proposed(self) -> AmendmentProposed:
        return AmendmentProposed(
            **self.contract(),
            number=2,
            proposed_by_user_id=self.client.user_id,
            reason="A second milestone for the mobile pages",
            currency="EUR",
            total_minor=180_000,
            previous_total_minor=150_000,
        )

    def client_signed(self) -> AmendmentSignatureRecorded:
        return AmendmentSignatureRecorded(
            **self.contract(),
            signature_id="sig-a2-client",
            signer_user_id=self.client.user_id,
            signer_role="client",
            pdf_sha256="a" * 64,
            ledger_entry_id=7,
            amendment=2,
        )

    def declined(self, by: Side) -> AmendmentDeclined:
        return AmendmentDeclined(
            **self.contract(),
            declined_by_user_id=self.account(by).user_id,
            declined_by_role=by,
            reason="The dates do not work for us",
            amendment=2,
        )

    def withdrawn(self, *, client_signed: bool) -> AmendmentWithdrawn:
        return AmendmentWithdrawn(
            **self.contract(),
            number=2,
            by_user_id=self.client.user_id,
            reason="We found another way",
            client_signed=client_signed,
        )

    def amended(self, added: list[str], removed: list[str]) -> ContractAmended:
        kept = ScheduleItem(
            item_id=f"{self.contract_id}-0",
            title="Design",
            amount_minor=100_000,
            due_date="2030-03-01",
        )
        new = [
            ScheduleItem(
                item_id=item, title="Mobile pages", amount_minor=80_000, due_date="2030-04-01"
            )
            for item in added
        ]
        return ContractAmended(
            **self.contract(),
            number=2,
            terms_version=3,
            currency="EUR",
            total_minor=180_000,
            previous_total_minor=150_000,
            review_days=14,
            end_date="2030-06-30",
            schedule=[kept, *new],
            added_item_ids=added,
            removed_item_ids=removed,
            pdf_sha256="c" * 64,
            final_pdf_sha256="d" * 64,
            signature_ids=["sig-a2-client", "sig-a2-contractor"],
            ledger_entry_ids=[7, 8],
            amended_at=AMENDED_AT,
        )


@pytest.fixture
async def pair(accounts: Accounts) -> Pair:
    return Pair(await accounts.create("client"), await accounts.create("contractor"))


async def test_a_proposal_reaches_the_contractor_once(
    fleet: Running, accounts: Accounts, pair: Pair
) -> None:
    event_id = await fleet.emit("contract.amendment-proposed", pair.proposed())
    [mail] = await accounts.mails(pair.contractor, "contract.amendment-proposed")
    assert mail["subject"] == "Your client proposes amendment 2 of “Website redesign”"
    assert mail["text"].startswith(
        f"Hello {pair.contractor.name},\n\nYour client proposed amendment 2 of the "
        "contract “Website redesign”.\n\nReason: A second milestone for the mobile pages\n\n"
        "The contract's total would be EUR 1,800.00 (now EUR 1,500.00). Your client signs "
        "it first; then you will be asked to sign it. Until both parties have signed it, "
        "the contract's current terms stay in force."
    )
    assert f"/contracts/{pair.contract_id}" in mail["text"]
    assert "EUR 1,800.00" in mail["html"]
    assert len(await accounts.notes(pair.contractor, "contract.amendment-proposed")) == 1
    assert await accounts.mails(pair.client, "contract.amendment-proposed") == []
    assert await accounts.notes(pair.client, "contract.amendment-proposed") == []

    await fleet.emit("contract.amendment-proposed", pair.proposed(), event_id=event_id)
    assert len(await accounts.mails(pair.contractor, "contract.amendment-proposed")) == 1
    assert len(await accounts.notes(pair.contractor, "contract.amendment-proposed")) == 1


async def test_the_client_s_signature_asks_the_contractor_to_sign(
    fleet: Running, accounts: Accounts, pair: Pair
) -> None:
    event_id = await fleet.emit("signature.amendment-client-signed", pair.client_signed())
    [mail] = await accounts.mails(pair.contractor, "contract.amendment-client-signed")
    assert mail["subject"] == "Your client signed amendment 2 of “Website redesign”: your turn"
    assert "It is your turn to sign it." in mail["text"]
    assert f"/contracts/{pair.contract_id}" in mail["text"]
    assert await accounts.mails(pair.client, "contract.amendment-client-signed") == []

    await fleet.emit("signature.amendment-client-signed", pair.client_signed(), event_id=event_id)
    assert len(await accounts.mails(pair.contractor, "contract.amendment-client-signed")) == 1
    assert len(await accounts.notes(pair.contractor, "contract.amendment-client-signed")) == 1


@pytest.mark.parametrize("by", ["client", "contractor"])
async def test_a_decline_reaches_the_other_party_once(
    fleet: Running, accounts: Accounts, pair: Pair, by: Side
) -> None:
    event_id = await fleet.emit("signature.amendment-declined", pair.declined(by))
    told = pair.other(by)
    [mail] = await accounts.mails(told, "contract.amendment-declined")
    assert mail["subject"] == "Amendment 2 of “Website redesign” was declined"
    decliner = "your client" if by == "client" else "your contractor"
    assert f"“Website redesign” was declined by {decliner}." in mail["text"]
    assert "Reason: The dates do not work for us" in mail["text"]
    assert "The contract's current terms stay in force." in mail["text"]
    assert await accounts.mails(pair.account(by), "contract.amendment-declined") == []
    assert await accounts.notes(pair.account(by), "contract.amendment-declined") == []

    await fleet.emit("signature.amendment-declined", pair.declined(by), event_id=event_id)
    assert len(await accounts.mails(told, "contract.amendment-declined")) == 1
    assert len(await accounts.notes(told, "contract.amendment-declined")) == 1


@pytest.mark.parametrize("client_signed", [False, True])
async def test_a_withdrawal_reaches_the_contractor_signed_or_not(
    fleet: Running, accounts: Accounts, pair: Pair, client_signed: bool
) -> None:
    withdrawn = pair.withdrawn(client_signed=client_signed)
    event_id = await fleet.emit("contract.amendment-withdrawn", withdrawn)
    [mail] = await accounts.mails(pair.contractor, "contract.amendment-withdrawn")
    assert mail["subject"] == "Amendment 2 of “Website redesign” was withdrawn"
    assert "Your client withdrew amendment 2 of the contract “Website redesign”." in mail["text"]
    assert ("You no longer need to sign it." in mail["text"]) is client_signed
    assert "Reason: We found another way" in mail["text"]
    assert "The contract's current terms stay in force." in mail["text"]
    assert await accounts.mails(pair.client, "contract.amendment-withdrawn") == []

    await fleet.emit("contract.amendment-withdrawn", withdrawn, event_id=event_id)
    assert len(await accounts.mails(pair.contractor, "contract.amendment-withdrawn")) == 1
    assert len(await accounts.notes(pair.contractor, "contract.amendment-withdrawn")) == 1


async def test_the_amendment_in_force_reaches_both_parties_once(
    fleet: Running, accounts: Accounts, pair: Pair
) -> None:
    amended = pair.amended([f"{pair.contract_id}-a2-1"], [f"{pair.contract_id}-1"])
    event_id = await fleet.emit("contract.amended", amended)
    [to_client] = await accounts.mails(pair.client, "contract.amended")
    [to_contractor] = await accounts.mails(pair.contractor, "contract.amended")
    for mail in (to_client, to_contractor):
        assert mail["subject"] == "Amendment 2 of “Website redesign” is in force"
        assert (
            "Amendment 2 of the contract “Website redesign” is signed by both parties and in "
            "force from 2030-02-15 10:00 UTC. The contract's total is now EUR 1,800.00 (was "
            "EUR 1,500.00)."
        ) in mail["text"]
        assert "Payments added to the schedule: 1; removed from it: 1" in mail["text"]
        assert f"/contracts/{pair.contract_id}" in mail["text"]
    assert "fund the added ones from your dashboard" in to_client["text"]
    assert "fund the added" not in to_contractor["text"]

    await fleet.emit("contract.amended", amended, event_id=event_id)
    assert len(await accounts.mails(pair.client, "contract.amended")) == 1
    assert len(await accounts.mails(pair.contractor, "contract.amended")) == 1
    assert len(await accounts.notes(pair.client, "contract.amended")) == 1
    assert len(await accounts.notes(pair.contractor, "contract.amended")) == 1


async def test_an_amendment_that_changes_no_payment_says_so(
    fleet: Running, accounts: Accounts, pair: Pair
) -> None:
    await fleet.emit("contract.amended", pair.amended([], []))
    [to_client] = await accounts.mails(pair.client, "contract.amended")
    assert "The payment schedule is unchanged." in to_client["text"]
    assert "Payments added" not in to_client["text"]


async def test_a_party_the_user_service_does_not_know_is_skipped(
    fleet: Running, accounts: Accounts, pair: Pair
) -> None:
    """The other party still hears; the event is not retried forever."""
    stranger = Pair(pair.client, pair.contractor)
    unknown = stranger.amended([], []).model_copy(update={"contractor_user_id": "nobody"})
    await fleet.emit("contract.amended", unknown)
    assert len(await accounts.mails(pair.client, "contract.amended")) == 1
    assert await accounts.mails(pair.contractor, "contract.amended") == []


async def test_opt_outs_apply_to_amendment_mail(
    fleet: Running, accounts: Accounts, pair: Pair
) -> None:
    await accounts.set_preferences(pair.contractor, contractUpdates=False)
    await fleet.deliver()
    await fleet.emit("contract.amendment-proposed", pair.proposed())
    assert await accounts.mails(pair.contractor, "contract.amendment-proposed") == []
    assert len(await accounts.notes(pair.contractor, "contract.amendment-proposed")) == 1


async def test_contract_amended_is_delivered_to_the_client_company_s_webhooks(
    fleet: Running, accounts: Accounts, receiver: Receiver
) -> None:
    parties = Parties(fleet, Directory())
    owner = await parties.client()
    made = await fleet.client("notification").post(
        WEBHOOKS,
        headers=owner.headers,
        json={"url": receiver.url, "eventTypes": ["contract.amended"]},
    )
    assert made.status_code == 201, made.text
    elsewhere = await parties.client()  # another company's endpoint hears nothing of it
    other = await fleet.client("notification").post(
        WEBHOOKS,
        headers=elsewhere.headers,
        json={"url": f"{receiver.url}/other", "eventTypes": ["contract.amended"]},
    )
    assert other.status_code == 201, other.text

    pair = Pair(
        await accounts.create("client"), await accounts.create("contractor"), owner.company_id
    )
    amended = pair.amended([f"{pair.contract_id}-a2-1"], [f"{pair.contract_id}-1"])
    event_id = await fleet.emit("contract.amended", amended)
    [received] = receiver.received
    assert received.path == "/hooks"
    assert received.signed_by(made.json()["secret"])
    body = received.json()
    assert (body["id"], body["type"], body["companyId"]) == (
        event_id,
        "contract.amended",
        owner.company_id,
    )
    assert body["data"] == {
        "contractId": pair.contract_id,
        "title": "Website redesign",
        "contractorId": "k-1",
        "number": 2,
        "termsVersion": 3,
        "total": {"amountMinor": 180_000, "currency": "EUR"},
        "previousTotal": {"amountMinor": 150_000, "currency": "EUR"},
        "addedItemIds": [f"{pair.contract_id}-a2-1"],
        "removedItemIds": [f"{pair.contract_id}-1"],
        "finalPdfSha256": "d" * 64,
        "amendedAt": AMENDED_AT,
    }
    assert "clientUserId" not in received.body.decode()  # never user ids

    await fleet.emit("contract.amended", amended, event_id=event_id)
    assert len(receiver.received) == 1
    # The mails went out in the same unit of work as the delivery.
    assert len(await accounts.mails(pair.client, "contract.amended")) == 1


async def test_a_webhook_subscription_takes_contract_amended_and_documents_it(
    fleet: Running, receiver: Receiver
) -> None:
    owner = await Parties(fleet, Directory()).client()
    refused = await fleet.client("notification").post(
        WEBHOOKS,
        headers=owner.headers,
        json={"url": receiver.url, "eventTypes": ["contract.amended", "contract.amendment"]},
    )
    # An unknown type is refused, the answer listing the accepted ones.
    assert refused.status_code == 422, refused.text
    assert "contract.amended," in refused.text
    made = await fleet.client("notification").post(
        WEBHOOKS,
        headers=owner.headers,
        json={"url": receiver.url, "eventTypes": ["contract.amended"]},
    )
    assert made.status_code == 201, made.text
    assert made.json()["eventTypes"] == ["contract.amended"]
    documented = CreateEndpoint.model_json_schema()["properties"]["eventTypes"]["items"]["enum"]
    assert "contract.amended" in documented
    assert "`contract.amended`" in DOC.read_text(encoding="utf-8")
