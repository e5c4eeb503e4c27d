"""Rules that need no I/O."""

from __future__ import annotations

from dataclasses import replace

from mindlinks_payment.domain import (
    Caller,
    Escrow,
    Parties,
    ScheduleView,
    Transaction,
    all_released,
    charge_id_for,
    escrow_id,
    transfer_id_for,
)
from mindlinks_payment.schemas import ScheduleOut

PARTIES = Parties("c-1", "Site", "co-1", "u-client", "k-1", "u-contractor")
ESCROW = Escrow(
    id="esc_1",
    parties=PARTIES,
    item_id="c-1-0",
    position=0,
    title="Milestone",
    amount_minor=100,
    currency="EUR",
    due_date="2030-01-01",
    state="pending_funding",
    transaction_id="txn_1",
    payment_intent_id="pi_1",
    created_at="t",
    updated_at="t",
)
CHARGE = Transaction(
    id="txn_1",
    kind="charge",
    parties=PARTIES,
    item_id="c-1-0",
    escrow_id="esc_1",
    amount_minor=100,
    currency="EUR",
    status="requires_payment",
    created_at="t",
    updated_at="t",
    payment_intent_id="pi_1",
    client_secret="pi_1_secret_x",
)


def test_ids_are_stable_per_item_and_distinct() -> None:
    assert escrow_id("c-1", "c-1-0") == escrow_id("c-1", "c-1-0")
    assert escrow_id("c-1", "c-1-0") != escrow_id("c-1", "c-1-1")
    assert escrow_id("c-1", "c-1-0") != escrow_id("c-2", "c-1-0")
    ids = {charge_id_for("c-1", "c-1-0"), transfer_id_for(escrow_id("c-1", "c-1-0"))}
    assert len(ids) == 2
    assert all(i.startswith("txn_") for i in ids)


def test_who_sees_a_contract_and_how() -> None:
    # Any member of the client company is on its side, whoever drafted it.
    assert PARTIES.side(Caller("u-client", "client", company_id="co-1")) == "client"
    assert PARTIES.side(Caller("another", "client", company_id="co-1")) == "client"
    assert PARTIES.side(Caller("u-contractor", "contractor")) == "contractor"
    assert PARTIES.side(Caller("anyone", "admin")) == "admin"
    assert PARTIES.side(Caller("u-client", "contractor")) is None
    assert PARTIES.side(Caller("u-contractor", "client")) is None
    assert PARTIES.side(Caller("u-client", "client")) is None  # acting for no company
    assert PARTIES.side(Caller("u-client", "client", company_id="co-2")) is None


def test_the_last_release_pays_out_the_contract() -> None:
    released = replace(ESCROW, id="esc_2", state="released")
    assert all_released([]) is True
    assert all_released([released]) is True
    assert all_released([released, replace(ESCROW, state="funded")]) is False


def test_client_secrets_only_for_the_client_and_only_while_unpaid() -> None:
    def secrets(side: str, escrow: Escrow, charge: Transaction | None) -> list[str | None]:
        view = ScheduleView("c-1", side, [(escrow, charge)])  # type: ignore[arg-type]
        return [i.client_secret for i in ScheduleOut.of(view).items]

    assert secrets("client", ESCROW, CHARGE) == ["pi_1_secret_x"]
    assert secrets("client", ESCROW, replace(CHARGE, status="failed")) == ["pi_1_secret_x"]
    assert secrets("client", ESCROW, replace(CHARGE, status="succeeded")) == [None]
    assert secrets("client", replace(ESCROW, state="funded"), CHARGE) == [None]
    assert secrets("contractor", ESCROW, CHARGE) == [None]
    assert secrets("admin", ESCROW, CHARGE) == [None]
