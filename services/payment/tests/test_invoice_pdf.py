"""The invoice's values and its PDF, without a fleet: numbers, money in
minor units, ids derived from the escrow item, deterministic rendering,
caller text escaped."""

from __future__ import annotations

import io
from dataclasses import replace

from pypdf import PdfReader

from mindlinks_kit.address import Address
from mindlinks_payment.domain import Caller, Parties
from mindlinks_payment.invoice_pdf import render_invoice
from mindlinks_payment.invoices import (
    Invoice,
    Issuer,
    Recipient,
    address_lines,
    invoice_id_for,
    invoice_number,
)

PARTIES = Parties(
    contract_id="c1",
    title="Logo & <i>brand</i>",
    client_company_id="co1",
    client_user_id="u-client",
    contractor_id="k1",
    contractor_user_id="u-contractor",
)
INVOICE = Invoice(
    id=invoice_id_for("esc_1"),
    number=invoice_number(7),
    sequence=7,
    parties=PARTIES,
    escrow_id="esc_1",
    item_id="c1-0",
    item_title="Draft </para><para>injected",
    transfer_id="tr_1",
    reason="auto-release",
    amount_minor=123456,
    item_amount_minor=123456,
    currency="EUR",
    issuer=Issuer(contractor_id="k1", legal_name="Ada & Co", email="ada@example.com"),
    recipient=Recipient(
        company_id="co1",
        legal_name="Acme Ltd",
        jurisdiction_code="gb",
        company_number="12345678",
        address=Address(line1="1 Main St", city="Leeds", postal_code="LS1 1AA", country="GB"),
    ),
    issued_at="2030-05-06T07:08:09Z",
)


def test_ids_and_numbers() -> None:
    assert invoice_id_for("esc_1") == invoice_id_for("esc_1") != invoice_id_for("esc_2")
    assert invoice_id_for("esc_1").startswith("inv_")
    assert [invoice_number(n) for n in (1, 42, 1234567)] == [
        "INV-000001",
        "INV-000042",
        "INV-1234567",
    ]


def test_address_lines() -> None:
    assert address_lines(None) == []
    full = Address("1 Main St", "Leeds", "LS1 1AA", "GB", line2="Floor 2", region="Yorkshire")
    assert address_lines(full) == ["1 Main St", "Floor 2", "LS1 1AA Leeds, Yorkshire", "GB"]


def test_only_the_parties_have_a_side() -> None:
    assert INVOICE.side(Caller("x", "client", company_id="co1")) == "client"
    assert INVOICE.side(Caller("u-contractor", "contractor")) == "contractor"
    assert INVOICE.side(Caller("u-admin", "admin")) is None
    assert INVOICE.side(Caller("x", "client", company_id="co2")) is None
    assert INVOICE.side(Caller("u-other", "contractor")) is None


def test_rendering_is_deterministic_and_prints_caller_text_as_written() -> None:
    pdf = render_invoice(INVOICE)
    assert pdf.startswith(b"%PDF-")
    assert render_invoice(INVOICE) == pdf
    assert render_invoice(replace(INVOICE, sequence=8, number=invoice_number(8))) != pdf
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    for expected in (
        "Invoice INV-000007",
        "Issue date 2030-05-06",
        "Ada & Co",
        "Acme Ltd",
        "Company number 12345678 (gb)",
        "LS1 1AA Leeds",
        "Logo & <i>brand</i>",
        "Draft </para><para>injected",
        "Released automatically at the end of the review period",
        "EUR 1,234.56",
        "Amount in minor units: 123456 EUR",
    ):
        assert expected in text, expected
    assert "Part of the item" not in text
    assert reader.metadata is not None
    assert reader.metadata.title == "Invoice INV-000007"
