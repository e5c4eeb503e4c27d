"""The contract rules without I/O: the status machine, templates, final documents."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from mindlinks_contract.domain import (
    STATUSES,
    TRANSITIONS,
    Company,
    Contract,
    Contractor,
    ContractorNotFound,
    ContractorNotVerified,
    FinalDocumentLocked,
    FinalDocumentMissing,
    InvalidTransition,
    Reader,
    Status,
    Termination,
    TerminationScheduled,
    contractor_for,
    final_document_accepted,
    signature_may_move,
)
from mindlinks_contract.terms import (
    InvalidTemplate,
    check_template,
    fill_template,
    schedule,
    total_minor,
    unknown_placeholders,
)

LIFECYCLE = {
    ("draft", "sent_for_signature"),
    ("sent_for_signature", "client_signed"),
    ("client_signed", "fully_signed"),
    ("fully_signed", "active"),
    ("active", "completed"),
    ("active", "terminated"),
    ("sent_for_signature", "declined"),
    ("client_signed", "declined"),
    ("draft", "voided"),
    ("sent_for_signature", "voided"),
    ("client_signed", "voided"),
    ("sent_for_signature", "expired"),
    ("client_signed", "expired"),
}
"""docs/lifecycle.md, transcribed."""


def _contract(status: Status = "draft", **changes: object) -> Contract:
    base = Contract(
        id="c1",
        status=status,
        title="T",
        description="D",
        currency="EUR",
        start_date="2026-03-01",
        terms={"kind": "fixed", "amountMinor": 100, "dueDate": "2026-03-31"},
        total_minor=100,
        template_id=None,
        client_company_id="co",
        client_user_id="client-user",
        client_name="Acme",
        contractor_id="k",
        contractor_user_id="contractor-user",
        contractor_name="Grace",
        pdf_key="contracts/c1/original.pdf",
        pdf_sha256="a" * 64,
        created_at="2026-02-20T00:00:00Z",
        updated_at="2026-02-20T00:00:00Z",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_table_is_the_documented_lifecycle() -> None:
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == LIFECYCLE
    assert set(TRANSITIONS) == set(STATUSES)


@pytest.mark.parametrize(("start", "to"), list(product(STATUSES, STATUSES)))
def test_only_documented_moves_happen(start: Status, to: Status) -> None:
    contract = _contract(start, version=3)
    if (start, to) in LIFECYCLE:
        moved = contract.moved(to, at="2026-03-02T00:00:00Z", actor_user_id="u")
        assert (moved.status, moved.version, moved.updated_at) == (to, 4, "2026-03-02T00:00:00Z")
        assert moved.history[-1].from_status == start
    else:
        with pytest.raises(InvalidTransition):
            contract.moved(to, at="2026-03-02T00:00:00Z", actor_user_id="u")


@pytest.mark.parametrize("start", STATUSES)
def test_nobody_voids_a_fully_signed_contract(start: Status) -> None:
    """Its activation and payment schedule may be under way: a void would race them."""
    contract = _contract(start)
    if start in ("draft", "sent_for_signature", "client_signed"):
        moved = contract.moved("voided", at="t", actor_user_id="admin-1", actor_service="admin")
        assert (moved.status, moved.history[-1].from_status) == ("voided", start)
    else:
        with pytest.raises(InvalidTransition):
            contract.moved("voided", at="t", actor_user_id="admin-1", actor_service="admin")


def test_the_signature_service_moves_only_signing_steps() -> None:
    signature_may_move(_contract("sent_for_signature"), "client_signed")
    signature_may_move(_contract("client_signed"), "declined")
    with pytest.raises(FinalDocumentMissing):
        signature_may_move(_contract("client_signed"), "fully_signed")
    signature_may_move(_contract("client_signed", final_pdf_sha256="b" * 64), "fully_signed")
    for status, to in (("draft", "sent_for_signature"), ("fully_signed", "active")):
        with pytest.raises(InvalidTransition):
            signature_may_move(_contract(status), to)  # type: ignore[arg-type]


def test_a_retried_move_is_recognised() -> None:
    moved = _contract("sent_for_signature").moved(
        "client_signed", at="t", actor_user_id="client-user"
    )
    assert moved.already_moved_by("client_signed", "client-user")
    assert not moved.already_moved_by("client_signed", "someone-else")
    assert not moved.already_moved_by("declined", "client-user")
    assert not _contract("client_signed").already_moved_by("client_signed", "client-user")


def test_the_final_document_is_replaceable_until_fully_signed() -> None:
    assert final_document_accepted(_contract("client_signed"), "b" * 64)
    same = _contract("client_signed", final_pdf_sha256="b" * 64)
    assert not final_document_accepted(same, "b" * 64)
    assert final_document_accepted(same, "c" * 64)
    signed = _contract("fully_signed", final_pdf_sha256="b" * 64)
    assert not final_document_accepted(signed, "b" * 64)
    with pytest.raises(FinalDocumentLocked):
        final_document_accepted(signed, "c" * 64)
    with pytest.raises(FinalDocumentLocked):
        final_document_accepted(_contract("sent_for_signature"), "b" * 64)


def test_templates_allow_listed_placeholders_only() -> None:
    body = "{{clientName}}, {{ contractorName }}, {{title}}, {{startDate}}, {{ other }}, {{a.b}}"
    assert unknown_placeholders(body) == ["a.b", "other"]
    with pytest.raises(InvalidTemplate):
        check_template(body)
    check_template("Plain text, {single braces} and {{ title }}.")
    filled = fill_template(
        "{{ clientName }} / {{title}} / {{other}}", {"clientName": "{{title}}", "title": "T"}
    )
    assert filled == "{{title}} / T / {{other}}"  # values are never expanded again


def test_schedules_and_totals() -> None:
    milestones = {
        "kind": "milestones",
        "milestones": [
            {"title": "A", "amountMinor": 100, "dueDate": "2026-03-02"},
            {"title": "B", "amountMinor": 250, "dueDate": "2026-03-03"},
        ],
    }
    assert [(line.title, line.amount_minor) for line in schedule(milestones, "x")] == [
        ("A", 100),
        ("B", 250),
    ]
    assert total_minor(milestones) == 350
    fixed = {"kind": "fixed", "amountMinor": 999, "dueDate": "2026-03-04"}
    assert [(line.title, line.due_date) for line in schedule(fixed, "Fee")] == [
        ("Fee", "2026-03-04")
    ]


def test_a_contract_names_its_contractor_by_the_verified_legal_name() -> None:
    company = Company(id="co-1", legal_name="Acme Ltd", status="active", owner_user_id="u-0")
    found = Contractor(
        id="ct-1",
        user_id="u-1",
        email="g@example.com",
        kyc_status="verified",
        company_ids=("co-1",),
        verified_legal_name="Grace Hopper",
    )
    assert contractor_for(company, found).legal_name == "Grace Hopper"
    for unverified in (
        replace(found, verified_legal_name=None),
        replace(found, verified_legal_name=""),
        replace(found, kyc_status="rejected"),
    ):
        with pytest.raises(ContractorNotVerified):
            contractor_for(company, unverified)
    with pytest.raises(ContractorNotFound):
        contractor_for(company, replace(found, company_ids=("co-2",)))


NOW = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)


def test_either_party_and_no_one_else_is_a_side() -> None:
    contract = _contract("active")
    assert contract.side_of(Reader("anyone", "client", "co")) == "client"
    assert contract.side_of(Reader("contractor-user", "contractor")) == "contractor"
    assert contract.side_of(Reader("anyone", "client", "other-co")) is None
    assert contract.side_of(Reader("other-contractor", "contractor")) is None
    assert contract.side_of(Reader("contractor-user", "admin")) is None


def test_the_notice_comes_from_the_terms_unless_it_ends_at_once() -> None:
    assert _contract("active").notice_end(at_once=False, now=NOW) is None
    noticed = _contract("active", notice_days=30)
    assert noticed.notice_end(at_once=False, now=NOW) == NOW + timedelta(days=30)
    assert noticed.notice_end(at_once=True, now=NOW) is None


@pytest.mark.parametrize("status", [s for s in STATUSES if s != "active"])
def test_only_an_active_contract_is_terminated(status: Status) -> None:
    with pytest.raises(InvalidTransition):
        _contract(status).notice_end(at_once=True, now=NOW)


def test_a_running_notice_may_only_be_cut_short() -> None:
    termination = Termination("Budget cut", "client-user", "client", "2026-04-01T09:30:00Z")
    running = _contract("active", notice_days=30).with_notice(termination, "2026-05-01T09:30:00Z")
    assert (running.status, running.version) == ("active", 2)
    with pytest.raises(TerminationScheduled):
        running.notice_end(at_once=False, now=NOW)
    assert running.notice_end(at_once=True, now=NOW) is None
    ended = running.terminated(termination, at="2026-04-02T00:00:00Z")
    assert (ended.status, ended.terminated_at, ended.termination_ends_at) == (
        "terminated",
        "2026-04-02T00:00:00Z",
        None,
    )
    assert ended.history[-1].reason == "Budget cut"
