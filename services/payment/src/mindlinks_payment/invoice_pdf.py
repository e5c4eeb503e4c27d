"""The invoice PDF (reportlab): the contractor's invoice to the client for
one released item — number, issue date, both parties' registered details,
the item, the contract and the amount.

Every piece of text that came from a party (names, addresses, titles) is
escaped before reportlab's paragraph markup sees it. Rendering is
deterministic (``invariant``): the same invoice gives the same bytes. It is
CPU-bound: call it through ``asyncio.to_thread``.

reportlab is imported by the first rendering, not with the service: a
process that only serves reads never loads it. (The contract service renders
its PDFs the same way; services do not import each other.)
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

# Escaping only, nothing is parsed (bandit's B406 is about XML parsers).
from xml.sax.saxutils import escape  # nosec B406

from mindlinks_fleet.money import format_money
from mindlinks_payment.invoices import Invoice, address_lines

if TYPE_CHECKING:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus.flowables import Flowable

FOOTER = "Issued through Mind-Links. The SHA-256 of this document is recorded in the ledger."


def _text(value: str) -> str:
    """Plain text as paragraph markup: escaped, line breaks kept."""
    return "<br/>".join(escape(line) for line in value.splitlines() or [""])


def _block(lines: list[str], style: ParagraphStyle) -> Flowable:
    from reportlab.platypus import Paragraph

    return Paragraph("<br/>".join(escape(line) for line in lines if line), style)


def render_invoice(invoice: Invoice) -> bytes:
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
        title=f"Invoice {invoice.number}",
        author=invoice.issuer.legal_name,
        subject=f"Invoice {invoice.number} for contract {invoice.contract_id}",
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=22 * mm,
    )

    def footer(canvas: Canvas, _: object) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(colors.grey)
        canvas.drawString(20 * mm, 12 * mm, f"Invoice {invoice.id}. {FOOTER}")
        canvas.drawRightString(A4[0] - 20 * mm, 12 * mm, f"Page {canvas.getPageNumber()}")
        canvas.restoreState()

    issuer, recipient = invoice.issuer, invoice.recipient
    from_lines = [issuer.legal_name, *address_lines(issuer.address)]
    if issuer.address is None and issuer.country:
        from_lines.append(issuer.country)
    if issuer.tax_id:
        from_lines.append(f"Tax id {issuer.tax_id}")
    from_lines.append(issuer.email)
    to_lines = [
        recipient.legal_name,
        f"Company number {recipient.company_number} ({recipient.jurisdiction_code})",
        *address_lines(recipient.address),
    ]
    parties = Table(
        [
            [Paragraph("<b>From</b>", body), _block(from_lines, body)],
            [Paragraph("<b>Bill to</b>", body), _block(to_lines, body)],
            [Paragraph("<b>Contract</b>", body), _block([invoice.parties.title], body)],
            ["", _block([f"Contract id {invoice.contract_id}"], small)],
        ],
        colWidths=[35 * mm, 135 * mm],
    )
    parties.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))

    amount = format_money(invoice.amount_minor, invoice.currency)
    description = [invoice.item_title, invoice.reason_text]
    if invoice.amount_minor != invoice.item_amount_minor:
        whole = format_money(invoice.item_amount_minor, invoice.currency)
        description.append(f"Part of the item's {whole}")
    rows: list[list[str | Flowable]] = [
        ["Item", "Amount"],
        [_block(description, body), amount],
        ["Total due (paid through escrow)", amount],
    ]
    lines = Table(rows, colWidths=[130 * mm, 40 * mm])
    lines.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.black),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )

    story: list[Flowable] = [
        Paragraph(_text(f"Invoice {invoice.number}"), styles["Title"]),
        Paragraph(_text(f"Issue date {invoice.issue_date} · invoice id {invoice.id}"), small),
        Spacer(1, 6 * mm),
        Paragraph("Parties", heading),
        parties,
        Paragraph(f"Details ({escape(invoice.currency)})", heading),
        lines,
        Spacer(1, 4 * mm),
        Paragraph(
            _text(
                f"Amount in minor units: {invoice.amount_minor} {invoice.currency}. "
                f"Paid from escrow item {invoice.escrow_id} by transfer {invoice.transfer_id}."
            ),
            small,
        ),
    ]
    template.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
