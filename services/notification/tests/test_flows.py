"""Lifecycle events → notifications, each through the real event path: the
event is committed through its producer's outbox when that service is
installed (else put on the bus exactly as its relay would: source
``mindlinks.<producer>``, the envelope), then EventBridge → SQS → consumer."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import BaseModel

from mindlinks_dev.harness import Running, installed_services
from mindlinks_dev.pytest_plugin import StartServices
from mindlinks_fleet import FLEET
from mindlinks_fleet.events import (
    CompanyClaimContested,
    CompanyReviewed,
    ContractActivated,
    ContractParties,
    InvitationAccepted,
    InvitationCreated,
    KycDecided,
    PaymentConfirmed,
    PaymentReleased,
    ScheduleItem,
    SignatureCompleted,
    SignatureRecorded,
)
from mindlinks_kit.clock import now_iso

if TYPE_CHECKING:
    from conftest import Accounts

PRODUCERS = sorted(
    {FLEET.event(name).producer for name in FLEET.service("notification").consumes} - {"auth"}
)
INSTALLED = [name for name in PRODUCERS if name in installed_services()]


@pytest.fixture(scope="module")
async def fleet(start_services: StartServices) -> AsyncIterator[Running]:
    """auth, user and notification, plus every installed producer of the events."""
    async with start_services("auth", "user", "notification", *INSTALLED) as running:
        yield running


class Events:
    def __init__(self, fleet: Running) -> None:
        self.fleet = fleet
        self.envelopes: dict[str, dict[str, Any]] = {}

    async def emit(self, name: str, payload: BaseModel) -> str:
        """Publish from the producer's outbox (or as its relay would), deliver."""
        producer = FLEET.event(name).producer
        if producer in self.fleet.apps:
            runtime = self.fleet.runtime(producer)
            uow = runtime.uow()
            detail = runtime.publish(uow, name, payload)
            await uow.commit()
            event_id = detail.id
        else:
            event_id = uuid.uuid4().hex
            self.envelopes[event_id] = {
                "Source": f"mindlinks.{producer}",
                "DetailType": name,
                "Detail": json.dumps(
                    {
                        "id": event_id,
                        "occurredAt": now_iso(),
                        "version": FLEET.event(name).version,
                        "correlationId": None,
                        "data": payload.model_dump(mode="json", by_alias=True),
                    }
                ),
            }
            await self._put(event_id)
        await self.fleet.deliver()
        return event_id

    async def again(self, name: str, event_id: str) -> None:
        """The same event delivered a second time (a relay that crashed after publishing)."""
        producer = FLEET.event(name).producer
        if producer in self.fleet.apps:
            await self.fleet.redeliver(producer, event_id)
        else:
            await self._put(event_id)
            await self.fleet.deliver()

    async def _put(self, event_id: str) -> None:
        runtime = self.fleet.runtime("notification")
        response = await runtime.aws.events.put_events(
            Entries=[
                {"EventBusName": runtime.settings.physical(FLEET.bus), **self.envelopes[event_id]}
            ]
        )
        assert response["FailedEntryCount"] == 0


@pytest.fixture
def events(fleet: Running) -> Events:
    return Events(fleet)


def parties(client_user_id: str, contractor_user_id: str) -> dict[str, Any]:
    return {
        "contract_id": f"ct-{uuid.uuid4().hex[:8]}",
        "title": "Website redesign",
        "client_company_id": "co-1",
        "client_user_id": client_user_id,
        "contractor_id": "k-1",
        "contractor_user_id": contractor_user_id,
    }


async def test_invitation_created_tells_the_inviter_in_the_app(
    fleet: Running, accounts: Accounts, events: Events
) -> None:
    client = await accounts.create("client")
    payload = InvitationCreated(
        invitation_id=uuid.uuid4().hex,
        company_id="co-1",
        company_name="Acme Widgets Ltd",
        email="grace@example.com",
        invited_by_user_id=client.user_id,
        expires_at="2030-01-08T00:00:00.000000Z",
    )
    event_id = await events.emit("invitation.created", payload)
    [note] = await accounts.notes(client, "client.invitation-sent")
    assert note["title"] == "Invitation sent to grace@example.com"
    assert "Acme Widgets Ltd" in note["body"]
    assert await accounts.mails(client, "client.invitation-sent") == []  # in-app only

    await events.again("invitation.created", event_id)
    assert len(await accounts.notes(client, "client.invitation-sent")) == 1


async def test_invitation_accepted_tells_the_inviter_who_joined(
    fleet: Running, accounts: Accounts, events: Events
) -> None:
    client = await accounts.create("client")
    contractor = await accounts.create("contractor", name="Grace Hopper")
    payload = InvitationAccepted(
        invitation_id=uuid.uuid4().hex,
        company_id="co-1",
        contractor_id="k-1",
        contractor_user_id=contractor.user_id,
        invited_by_user_id=client.user_id,
    )
    event_id = await events.emit("invitation.accepted", payload)
    [note] = await accounts.notes(client, "client.contractor-joined")
    assert note["title"] == "Grace Hopper accepted your invitation"
    [mail] = await accounts.mails(client, "client.contractor-joined")
    assert mail["id"] == note["id"]
    assert contractor.email in mail["text"]
    assert "http://localhost:8080/contractors/k-1" in mail["text"]
    assert await accounts.notes(contractor, "client.contractor-joined") == []

    await events.again("invitation.accepted", event_id)
    assert len(await accounts.notes(client, "client.contractor-joined")) == 1
    assert len(await accounts.mails(client, "client.contractor-joined")) == 1


async def test_an_approved_company_tells_its_owner(
    fleet: Running, accounts: Accounts, events: Events
) -> None:
    owner = await accounts.create("client")
    payload = CompanyReviewed(
        company_id=uuid.uuid4().hex,
        owner_user_id=owner.user_id,
        legal_name="Acme Widgets Ltd",
        decision="approved",
    )
    event_id = await events.emit("company.reviewed", payload)
    [note] = await accounts.notes(owner, "company.approved")
    assert note["title"] == "Acme Widgets Ltd is approved"
    [mail] = await accounts.mails(owner, "company.approved")
    assert (mail["id"], mail["subject"]) == (note["id"], note["title"])
    assert "You can now invite your contractors" in mail["text"]
    assert "http://localhost:8080" in mail["text"]
    assert await accounts.mails(owner, "company.rejected") == []

    await events.again("company.reviewed", event_id)
    assert len(await accounts.notes(owner, "company.approved")) == 1
    assert len(await accounts.mails(owner, "company.approved")) == 1


@pytest.mark.parametrize("reason", ["The registry lists another company", None])
async def test_a_rejected_company_tells_its_owner_why(
    fleet: Running, accounts: Accounts, events: Events, reason: str | None
) -> None:
    owner = await accounts.create("client")
    payload = CompanyReviewed(
        company_id=uuid.uuid4().hex,
        owner_user_id=owner.user_id,
        legal_name="Acme Widgets Ltd",
        decision="rejected",
        reason=reason,
    )
    await events.emit("company.reviewed", payload)
    [note] = await accounts.notes(owner, "company.rejected")
    assert note["title"] == "We could not approve Acme Widgets Ltd"
    [mail] = await accounts.mails(owner, "company.rejected")
    ending = f"could not approve it: {reason}" if reason else "could not approve it."
    assert ending in mail["text"]
    assert ending in mail["html"]
    assert await accounts.notes(owner, "company.approved") == []


async def test_a_company_review_follows_the_owners_opt_outs(
    fleet: Running, accounts: Accounts, events: Events
) -> None:
    owner = await accounts.create("client")
    await accounts.set_preferences(owner, productUpdates=False)
    await events.emit(
        "company.reviewed",
        CompanyReviewed(
            company_id=uuid.uuid4().hex,
            owner_user_id=owner.user_id,
            legal_name="Acme Widgets Ltd",
            decision="rejected",
            reason="Not a company",
        ),
    )
    assert len(await accounts.notes(owner, "company.rejected")) == 1  # in-app stays
    assert await accounts.mails(owner, "company.rejected") == []


async def test_a_contested_registry_number_tells_the_first_owner_despite_opt_outs(
    fleet: Running, accounts: Accounts, events: Events
) -> None:
    """A security notice: mailed even to an owner who opted out of product
    updates, once per event, without naming the claimant."""
    owner = await accounts.create("client")
    claimant = await accounts.create("client")
    await accounts.set_preferences(owner, productUpdates=False)
    payload = CompanyClaimContested(
        company_id=uuid.uuid4().hex,
        owner_user_id=owner.user_id,
        legal_name="Acme Widgets Ltd",
        jurisdiction_code="gb",
        company_number="12345678",
        claim_company_id=uuid.uuid4().hex,
        claim_owner_user_id=claimant.user_id,
    )
    event_id = await events.emit("company.claim-contested", payload)
    [mail] = await accounts.mails(owner, "company.claim-contested")
    assert mail["subject"] == "Someone else registered Acme Widgets Ltd on Mind-Links"
    assert "GB 12345678" in mail["text"]
    assert "GB 12345678" in mail["html"]
    assert claimant.email not in mail["text"]
    [note] = await accounts.notes(owner, "company.claim-contested")
    assert note["title"] == mail["subject"]
    assert await accounts.mails(claimant, "company.claim-contested") == []

    await events.again("company.claim-contested", event_id)
    assert len(await accounts.mails(owner, "company.claim-contested")) == 1
    assert len(await accounts.notes(owner, "company.claim-contested")) == 1


@pytest.mark.parametrize(
    ("name", "template", "reason", "title"),
    [
        ("kyc.verified", "kyc.verified", None, "Your identity is verified"),
        ("kyc.rejected", "kyc.rejected", "Document expired", "We could not verify your identity"),
        ("kyc.rejected", "kyc.rejected", None, "We could not verify your identity"),
    ],
)
async def test_kyc_decisions_reach_the_contractor(
    fleet: Running,
    accounts: Accounts,
    events: Events,
    name: str,
    template: str,
    reason: str | None,
    title: str,
) -> None:
    contractor = await accounts.create("contractor")
    payload = KycDecided(
        session_id=uuid.uuid4().hex,
        contractor_id="k-1",
        user_id=contractor.user_id,
        provider="veriff",
        reason=reason,
    )
    await events.emit(name, payload)
    [note] = await accounts.notes(contractor, template)
    assert note["title"] == title
    [mail] = await accounts.mails(contractor, template)
    if name == "kyc.rejected":
        assert (f": {reason}" if reason else "identity.") in mail["text"]


async def test_a_contract_sent_for_signature_asks_the_contractor(
    fleet: Running, accounts: Accounts, events: Events
) -> None:
    client = await accounts.create("client")
    contractor = await accounts.create("contractor")
    payload = ContractParties(**parties(client.user_id, contractor.user_id))
    await events.emit("contract.sent-for-signature", payload)
    [note] = await accounts.notes(contractor, "contract.sign-requested")
    assert note["title"] == "Please review and sign “Website redesign”"
    [mail] = await accounts.mails(contractor, "contract.sign-requested")
    assert f"http://localhost:8080/contracts/{payload.contract_id}" in mail["text"]
    assert await accounts.notes(client, "contract.sign-requested") == []


async def test_the_clients_signature_tells_the_contractor_it_is_their_turn(
    fleet: Running, accounts: Accounts, events: Events
) -> None:
    client = await accounts.create("client")
    contractor = await accounts.create("contractor")
    payload = SignatureRecorded(
        **parties(client.user_id, contractor.user_id),
        signature_id="s-1",
        signer_user_id=client.user_id,
        signer_role="client",
        pdf_sha256="a" * 64,
        ledger_entry_id=7,
    )
    await events.emit("signature.client-signed", payload)
    [note] = await accounts.notes(contractor, "contract.client-signed")
    assert note["title"] == "Your client signed “Website redesign”: your turn"
    assert len(await accounts.mails(contractor, "contract.client-signed")) == 1
    assert await accounts.notes(client, "contract.client-signed") == []


async def test_completion_and_activation_reach_both_parties(
    fleet: Running, accounts: Accounts, events: Events
) -> None:
    client = await accounts.create("client")
    contractor = await accounts.create("contractor")
    common = parties(client.user_id, contractor.user_id)
    completed = SignatureCompleted(
        **common,
        signature_ids=["s-1", "s-2"],
        pdf_sha256="a" * 64,
        final_pdf_sha256="b" * 64,
        ledger_entry_ids=[7, 8],
    )
    event_id = await events.emit("signature.completed", completed)
    for party in (client, contractor):
        [note] = await accounts.notes(party, "contract.fully-signed")
        assert note["title"] == "“Website redesign” is signed by both parties"
        assert len(await accounts.mails(party, "contract.fully-signed")) == 1
    await events.again("signature.completed", event_id)
    for party in (client, contractor):
        assert len(await accounts.notes(party, "contract.fully-signed")) == 1
        assert len(await accounts.mails(party, "contract.fully-signed")) == 1

    activated = ContractActivated(
        **common,
        currency="EUR",
        schedule=[
            ScheduleItem(
                item_id=f"{common['contract_id']}-0",
                title="M1",
                amount_minor=150000,
                due_date="2030-01-01",
            ),
            ScheduleItem(
                item_id=f"{common['contract_id']}-1",
                title="M2",
                amount_minor=50050,
                due_date="2030-02-01",
            ),
        ],
        ledger_entry_id=9,
    )
    await events.emit("ledger.contract-activated", activated)
    [to_client] = await accounts.mails(client, "contract.activated")
    [to_contractor] = await accounts.mails(contractor, "contract.activated")
    assert "2 payments totalling EUR 2,000.50 are scheduled; fund them" in to_client["text"]
    assert "2 payments totalling EUR 2,000.50 are scheduled." in to_contractor["text"]
    assert len(await accounts.notes(client, "contract.activated")) == 1


async def test_payments_reach_both_parties(
    fleet: Running, accounts: Accounts, events: Events
) -> None:
    client = await accounts.create("client")
    contractor = await accounts.create("contractor")
    money = {
        "contract_id": "ct-1",
        "item_id": "ct-1-0",
        "escrow_id": "e-1",
        "client_user_id": client.user_id,
        "contractor_user_id": contractor.user_id,
        "amount_minor": 150000,
        "currency": "EUR",
    }
    await events.emit("payment.confirmed", PaymentConfirmed(**money, transaction_id="t-1"))
    [to_client] = await accounts.mails(client, "payment.funded")
    [to_contractor] = await accounts.mails(contractor, "payment.funded")
    assert to_client["subject"] == to_contractor["subject"] == "EUR 1,500.00 is held in escrow"
    assert "Your payment of EUR 1,500.00 was received" in to_client["text"]
    assert "Your client funded a payment of EUR 1,500.00" in to_contractor["text"]

    released = PaymentReleased(**money, transfer_id="tr-1", contractor_id="k-1", all_released=True)
    await events.emit("payment.released", released)
    [to_client] = await accounts.notes(client, "payment.released")
    [to_contractor] = await accounts.notes(contractor, "payment.released")
    assert to_client["title"] == "EUR 1,500.00 released to the contractor"
    assert to_contractor["title"] == "EUR 1,500.00 released to you"
    assert "Every payment of this contract is now released." in to_contractor["body"]


async def test_opt_outs_apply_to_lifecycle_mail(
    fleet: Running, accounts: Accounts, events: Events
) -> None:
    client = await accounts.create("client")
    contractor = await accounts.create("contractor")
    await accounts.set_preferences(contractor, contractUpdates=False)
    await events.emit(
        "contract.sent-for-signature",
        ContractParties(**parties(client.user_id, contractor.user_id)),
    )
    assert len(await accounts.notes(contractor, "contract.sign-requested")) == 1  # in-app stays
    assert await accounts.mails(contractor, "contract.sign-requested") == []


async def test_an_opt_out_after_a_first_notification_applies_to_the_next(
    fleet: Running, accounts: Accounts, events: Events
) -> None:
    """Notification keeps a recipient's opt-ins between events; the user
    service's ``user.updated`` makes it read them again."""
    client = await accounts.create("client")
    contractor = await accounts.create("contractor")
    both = parties(client.user_id, contractor.user_id)
    await events.emit("contract.sent-for-signature", ContractParties(**both))
    assert len(await accounts.mails(contractor, "contract.sign-requested")) == 1
    await accounts.set_preferences(contractor, contractUpdates=False)
    await fleet.deliver()  # user.updated reaches notification
    await events.emit(
        "signature.client-signed",
        SignatureRecorded(
            **both,
            signature_id=uuid.uuid4().hex,
            signer_user_id=client.user_id,
            signer_role="client",
            pdf_sha256="a" * 64,
            ledger_entry_id=1,
        ),
    )
    assert len(await accounts.notes(contractor, "contract.client-signed")) == 1  # in-app stays
    assert await accounts.mails(contractor, "contract.client-signed") == []


async def test_an_unknown_recipient_is_skipped_and_the_others_notified(
    fleet: Running, accounts: Accounts, events: Events
) -> None:
    contractor = await accounts.create("contractor")
    event_id = await events.emit(
        "signature.completed",
        SignatureCompleted(
            **parties(uuid.uuid4().hex, contractor.user_id),  # the client is unknown
            signature_ids=["s-1", "s-2"],
            pdf_sha256="a" * 64,
            final_pdf_sha256="b" * 64,
            ledger_entry_ids=[1, 2],
        ),
    )
    assert len(await accounts.notes(contractor, "contract.fully-signed")) == 1
    inbox = fleet.runtime("notification").table("inbox")
    assert await inbox.get({"eventId": event_id}) is not None  # handled, not retried
