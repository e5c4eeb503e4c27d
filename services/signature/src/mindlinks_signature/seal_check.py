"""Checking a seal with pyhanko's validator: the PDF's last signature is ours
(the seal field), intact (its bytes hash to what was signed), valid (the
signature verifies), trusted (the certificate chains to the configured roots),
covers the whole file, and carries a valid time-stamp from a trusted TSA.

CPU-bound and synchronous from the caller's view: ``check_seal`` runs in a
worker thread (pyhanko's validator is async, so it gets its own event loop
there; it fetches nothing: the trust roots are given, fetching is off).
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

from mindlinks_kit.clock import iso
from mindlinks_signature.seal import SEAL_FIELD, load_certificates


@dataclass(frozen=True)
class TimestampCheck:
    valid: bool
    """Intact, cryptographically valid and from a trusted TSA."""
    time: str | None
    """When the TSA says the seal existed (ISO 8601 UTC)."""
    authority: str | None


@dataclass(frozen=True)
class SealCheck:
    present: bool
    intact: bool
    valid: bool
    trusted: bool
    covers_whole_file: bool
    sealed_by: str | None
    timestamp: TimestampCheck | None

    @property
    def ok(self) -> bool:
        return (
            self.present
            and self.intact
            and self.valid
            and self.trusted
            and self.covers_whole_file
            and self.timestamp is not None
            and self.timestamp.valid
        )


NO_SEAL = SealCheck(False, False, False, False, False, None, None)


async def _check(pdf: bytes, trust_roots: tuple[str, ...]) -> SealCheck:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        seals = [s for s in reader.embedded_signatures if s.field_name == SEAL_FIELD]
    except Exception:  # not a PDF, or one pyhanko cannot read: no seal to speak of
        return NO_SEAL
    if not seals:
        return NO_SEAL
    roots = load_certificates(trust_roots)
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    try:
        status = await async_validate_pdf_signature(
            seals[-1],
            signer_validation_context=context,
            ts_validation_context=ValidationContext(trust_roots=roots, allow_fetching=False),
        )
    except Exception:  # a malformed signature container is not a valid seal
        return SealCheck(True, False, False, False, False, None, None)
    stamp = status.timestamp_validity
    timestamp = (
        None
        if stamp is None
        else TimestampCheck(
            valid=bool(stamp.intact and stamp.valid and stamp.trusted),
            time=iso(stamp.timestamp),
            authority=stamp.signing_cert.subject.human_friendly,
        )
    )
    return SealCheck(
        present=True,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        sealed_by=status.signing_cert.subject.human_friendly,
        timestamp=timestamp,
    )


async def check_seal(pdf: bytes, trust_roots: tuple[str, ...]) -> SealCheck:
    return await asyncio.to_thread(asyncio.run, _check(pdf, trust_roots))
