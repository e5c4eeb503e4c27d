"""The contract PDF: valid, deterministic, with the title, parties, amounts and footer."""

from __future__ import annotations

import io

from pypdf import PdfReader

from mindlinks_contract.pdf import FOOTER, ContractDocument, render_contract
from mindlinks_contract.terms import (
    Line,
    fill_template,
)


def _document(**overrides: object) -> ContractDocument:
    fields: dict[str, object] = {
        "contract_id": "c0ffee",
        "title": "Data platform <build> & run",
        "description": "Phase one.\n\nPhase two with <i>markup</i> that stays text.",
        "client_name": "Acme Widgets Ltd",
        "client_company_id": "co-1",
        "contractor_name": "Grace Hopper",
        "contractor_email": "grace@example.com",
        "currency": "EUR",
        "start_date": "2026-03-01",
        "lines": [
            Line("Discovery", 250_000, "2026-03-15"),
            Line("Delivery", 1_234_567, "2026-05-31"),
        ],
        "total_minor": 1_484_567,
        "issued_at": "2026-02-20",
        "agreement": None,
    }
    fields.update(overrides)
    return ContractDocument(**fields)  # type: ignore[arg-type]


def _text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_holds_the_contract() -> None:
    data = render_contract(_document())
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 1
    assert reader.metadata is not None
    assert reader.metadata.title == "Data platform <build> & run"
    text = _text(data)
    flat = " ".join(text.split())
    for expected in (
        "Data platform <build> & run",
        "Acme Widgets Ltd",
        "Grace Hopper",
        "grace@example.com",
        "2026-03-01",
        "Discovery",
        "EUR 2,500.00",
        "Delivery",
        "EUR 12,345.67",
        "EUR 14,845.67",
        "2026-05-31",
        "Phase two with <i>markup</i> that stays text.",
        "c0ffee",
        FOOTER,
    ):
        assert expected in flat, expected


def test_rendering_is_deterministic() -> None:
    assert render_contract(_document()) == render_contract(_document())
    assert render_contract(_document()) != render_contract(_document(title="Other"))


def test_the_agreement_text_is_included_when_given() -> None:
    agreement = fill_template(
        "{{clientName}} engages {{contractorName}} for {{title}} from {{startDate}}.",
        {
            "clientName": "Acme",
            "contractorName": "Grace",
            "title": "<script>",
            "startDate": "2026-03-01",
        },
    )
    flat = " ".join(_text(render_contract(_document(agreement=agreement))).split())
    assert "Acme engages Grace for <script> from 2026-03-01." in flat


def test_long_schedules_flow_onto_more_pages() -> None:
    lines = [Line(f"Milestone {i}", 100_00, "2026-04-01") for i in range(50)]
    data = render_contract(_document(lines=lines, total_minor=50 * 100_00))
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 2
    text = _text(data)
    assert "Milestone 49" in text
    assert "EUR 5,000.00" in text
    assert all(FOOTER in page.extract_text() for page in reader.pages)
