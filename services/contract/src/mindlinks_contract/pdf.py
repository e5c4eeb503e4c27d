"""The contract PDF (reportlab): parties, title, description, the agreement
text, the payment terms (with the review period and the termination notice)
and the contract id, with a footer saying that the
document's SHA-256 is recorded on signing.

Every piece of caller-provided text is escaped before reportlab's paragraph
markup sees it. Rendering is deterministic (``invariant``): the same contract
gives the same bytes. CPU-bound: call it through ``asyncio.to_thread``.

reportlab is imported by the first rendering, not with the service: a process
that serves reads only never loads it (about a fifth of a second of its start).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

# Escaping only, nothing is parsed (bandit's B406 is about XML parsers).
from xml.sax.saxutils import escape  # nosec B406

from mindlinks_contract.terms import (
    NOTICE_DAYS,
    REVIEW_DAYS,
    Line,
)
from mindlinks_fleet.money import format_money

if TYPE_CHECKING:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus.flowables import Flowable

FOOTER = "The SHA-256 of this document is recorded on signing."


@dataclass(frozen=True)
class ContractDocument:
    contract_id: str
    title: str
    description: str
    client_name: str
    client_company_id: str
    contractor_name: str
    contractor_email: str
    currency: str
    start_date: str
    lines: Sequence[Line]
    total_minor: int
    issued_at: str
    agreement: str | None = None
    """The template's text with its placeholders filled, when a template was used."""
    review_days: int = REVIEW_DAYS
    notice_days: int = NOTICE_DAYS
    end_date: str | None = None
    amendment: AmendmentNote | None = None
    """Set on an amendment's document: the whole contract as amended, headed
    by what changes and why."""


@dataclass(frozen=True)
class AmendmentNote:
    number: int
    terms_version: int
    reason: str
    changes: Sequence[str]


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def escrow_terms(review_days: int, notice_days: int) -> str:
    """The payment terms' rules in words: review, auto-release, termination."""
    notice = (
        "Either party may terminate the contract at once."
        if notice_days == 0
        else f"Either party may terminate the contract with {_days(notice_days)}' notice."
    )
    return (
        "Amounts are held in escrow by Mind-Links once funded. The contractor submits the "
        "work for each payment; the client approves it, which releases the payment to the "
        "contractor, or asks for changes. Submitted work the client has not answered within "
        f"{_days(review_days)} is released on its own. {notice} Funded payments whose work "
        "has not been submitted when the contract ends are refunded to the client unless "
        "the parties agree otherwise. Both parties sign this document electronically; a "
        "certificate of completion is appended when both have signed."
    )


def _text(value: str) -> str:
    """Plain text as paragraph markup: escaped, line breaks kept."""
    return "<br/>".join(escape(line) for line in value.splitlines() or [""])


def _paragraphs(value: str, style: ParagraphStyle) -> list[Flowable]:
    from reportlab.platypus import Paragraph

    blocks = [block for block in value.replace("\r\n", "\n").split("\n\n") if block.strip()]
    return [Paragraph(_text(block), style) for block in blocks]


def _subject(doc: ContractDocument) -> str:
    if doc.amendment is None:
        return f"Contract {doc.contract_id}"
    return f"Contract {doc.contract_id}, amendment {doc.amendment.number}"


def render_contract(doc: ContractDocument) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"])
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10, textColor=colors.grey)
    heading = styles["Heading2"]
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        invariant=True,
        title=doc.title,
        author="Mind-Links",
        subject=_subject(doc),
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=22 * mm,
    )

    def footer(canvas: Canvas, _: object) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(colors.grey)
        canvas.drawString(20 * mm, 12 * mm, f"{_subject(doc)}. {FOOTER}")
        canvas.drawRightString(A4[0] - 20 * mm, 12 * mm, f"Page {canvas.getPageNumber()}")
        canvas.restoreState()

    parties = Table(
        [
            [Paragraph("<b>Client</b>", body), Paragraph(_text(doc.client_name), body)],
            ["", Paragraph(_text(f"Company id {doc.client_company_id}"), small)],
            [Paragraph("<b>Contractor</b>", body), Paragraph(_text(doc.contractor_name), body)],
            ["", Paragraph(_text(doc.contractor_email), small)],
            [Paragraph("<b>Start date</b>", body), Paragraph(_text(doc.start_date), body)],
            *(
                [[Paragraph("<b>End date</b>", body), Paragraph(_text(doc.end_date), body)]]
                if doc.end_date
                else []
            ),
        ],
        colWidths=[35 * mm, 135 * mm],
    )
    parties.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))

    rows: list[list[str | Flowable]] = [["#", "Payment", "Due date", "Amount"]]
    for number, line in enumerate(doc.lines, start=1):
        rows.append(
            [
                str(number),
                Paragraph(_text(line.title), body),
                line.due_date,
                format_money(line.amount_minor, doc.currency),
            ]
        )
    rows.append(["", "Total", "", format_money(doc.total_minor, doc.currency)])
    payments = Table(rows, colWidths=[10 * mm, 95 * mm, 30 * mm, 35 * mm], repeatRows=1)
    payments.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.black),
                ("ALIGN", (3, 0), (3, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )

    story: list[Flowable] = [
        Paragraph(_text(doc.title), styles["Title"]),
        Paragraph(_text(f"{_subject(doc)} · issued {doc.issued_at}"), small),
        Spacer(1, 6 * mm),
    ]
    if doc.amendment is not None:
        note = doc.amendment
        story += [
            Paragraph(
                _text(f"Amendment {note.number}: terms version {note.terms_version}"), heading
            ),
            Paragraph(
                _text(
                    "Once both parties have signed this amendment, the terms below replace "
                    "the contract's terms in force; until then those stay in force. Payments "
                    "already funded or settled are not changed by it."
                ),
                body,
            ),
            Paragraph("<b>Why</b>", body),
            *_paragraphs(note.reason, body),
            Paragraph("<b>What changes</b>", body),
            *[Paragraph(_text(f"• {change}"), body) for change in note.changes],
            Spacer(1, 4 * mm),
        ]
    story += [
        Paragraph("Parties", heading),
        parties,
        Paragraph("Description", heading),
        *_paragraphs(doc.description, body),
    ]
    if doc.agreement:
        story += [Paragraph("Agreement", heading), *_paragraphs(doc.agreement, body)]
    story += [
        Paragraph(f"Payment terms ({escape(doc.currency)})", heading),
        payments,
        Spacer(1, 8 * mm),
        Paragraph(_text(escrow_terms(doc.review_days, doc.notice_days)), small),
    ]
    template.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
