"""The certificate of completion: one page (reportlab) listing each signer,
when and from where they signed, the SHA-256 of the original document and the
ledger entries that record the signatures — appended to the signed original
(pypdf), which stays byte-for-byte intact in the pages before it.

Deterministic: the same signatures give the same bytes, so a retried signing
stores the same final document. CPU-bound: call through ``asyncio.to_thread``.

reportlab and pypdf are imported by the first rendering, not with the service
(about a third of a second of its start, for a page made once per contract).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

# Escaping only, nothing is parsed (bandit's B406 is about XML parsers).
from xml.sax.saxutils import escape  # nosec B406

if TYPE_CHECKING:
    from reportlab.platypus.flowables import Flowable

TITLE = "Certificate of completion"
STEP_UP_METHODS = {"email": "by email", "totp": "from an authenticator app"}


@dataclass(frozen=True)
class Signer:
    role: str
    signature_name: str
    user_id: str
    signed_at: str
    ip_address: str | None
    user_agent: str | None
    ledger_seq: int
    ledger_entry_hash: str
    party_name: str = ""
    """The legal name of the party signed for (``""``: not recorded)."""
    company_role: str | None = None
    """A client signer's role in the company signed for."""
    step_up_method: str | None = None
    """How the signer confirmed a one-time code before signing (``email``,
    ``totp``; ``None``: signed before step-up), and when."""
    step_up_verified_at: str | None = None

    @property
    def identity_check(self) -> str | None:
        """The step-up row: ``one-time code by email, confirmed at <time>``."""
        if self.step_up_method is None:
            return None
        how = STEP_UP_METHODS.get(self.step_up_method, self.step_up_method)
        return f"one-time code {how}, confirmed at {self.step_up_verified_at}"

    @property
    def signed_for(self) -> str | None:
        """``signed for <company> by <name> (<role>)``, for a signature made for a company."""
        if self.company_role is None or not self.party_name:
            return None
        return f"signed for {self.party_name} by {self.signature_name} ({self.company_role})"


@dataclass(frozen=True)
class Certificate:
    contract_id: str
    title: str
    client_name: str
    contractor_name: str
    original_sha256: str
    signers: Sequence[Signer]


def _text(value: str) -> str:
    return escape(value)


def certificate_page(certificate: Certificate) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"])
    mono = ParagraphStyle("mono", parent=body, fontName="Courier", fontSize=8, leading=10)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10, textColor=colors.grey)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        invariant=True,
        title=f"{TITLE}: {certificate.title}",
        author="Mind-Links",
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
    )
    story: list[Flowable] = [
        Paragraph(TITLE, styles["Title"]),
        Paragraph(_text(certificate.title), styles["Heading2"]),
        Paragraph(_text(f"Contract {certificate.contract_id}"), body),
        Paragraph(
            _text(f"Between {certificate.client_name} and {certificate.contractor_name}."), body
        ),
        Spacer(1, 4 * mm),
        Paragraph("SHA-256 of the original document signed by every party:", body),
        Paragraph(_text(certificate.original_sha256), mono),
        Spacer(1, 4 * mm),
    ]
    for signer in certificate.signers:
        rows: list[list[str | Flowable]] = [
            ["Signed by", Paragraph(_text(signer.signature_name), body)],
            ["Role", signer.role],
            ["User id", Paragraph(_text(signer.user_id), mono)],
            ["Signed at (UTC)", signer.signed_at],
            ["IP address", signer.ip_address or "unknown"],
            ["User agent", Paragraph(_text(signer.user_agent or "unknown"), small)],
            ["Ledger entry", f"#{signer.ledger_seq}"],
            ["Entry hash", Paragraph(_text(signer.ledger_entry_hash), mono)],
        ]
        if signer.identity_check is not None:
            rows.insert(4, ["Identity check", Paragraph(_text(signer.identity_check), body)])
        table = Table(rows, colWidths=[35 * mm, 135 * mm])
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BOX", (0, 0), (-1, -1), 0.5, colors.grey),
                ]
            )
        )
        story.append(Paragraph(_text(f"Signature: {signer.role}"), styles["Heading3"]))
        if signer.signed_for is not None:
            story.append(Paragraph(_text(signer.signed_for), body))
        story.append(table)
    story += [
        Spacer(1, 6 * mm),
        Paragraph(
            _text(
                "Each signature is an entry in the Mind-Links ledger, an append-only "
                "hash-chained journal. To verify: recompute the SHA-256 of the original "
                "document (the pages before this one, as first issued) and compare it with "
                "the value above and with each ledger entry."
            ),
            small,
        ),
    ]
    document.build(story)
    return buffer.getvalue()


def append_certificate(original: bytes, certificate: Certificate) -> bytes:
    """The original's pages followed by the certificate page, as one PDF."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(original)))
    writer.append(PdfReader(io.BytesIO(certificate_page(certificate))))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
