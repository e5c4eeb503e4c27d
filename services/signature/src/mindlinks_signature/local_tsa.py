"""The local time-stamp authority: RFC 3161 over HTTP on a local-only route
(``POST /v1/signatures/dev/timestamps``), standing in for the outside TSA
that ``seal_timestamp_url`` names in AWS. The seal's client is the same in
both modes: only the URL changes.

Its key and certificate come from the local authority the bootstrap made
(``signature/seal-certificates``, ``timestamping``); the token itself is made
by pyhanko's own time-stamper (``DummyTimeStamper``: a TSA answering every
well-formed request, which is what a local stand-in should do).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mindlinks_kit.errors import Problem
from mindlinks_signature.seal import SealCertificates, load_certificates

if TYPE_CHECKING:
    from pyhanko.sign.timestamps import TimeStamper

MAX_QUERY_BYTES = 16 * 1024
"""A time-stamp query is a hash and a few fields: well under 1 KiB."""


class BadTimestampQuery(Problem):
    status = 400
    code = "bad-timestamp-query"
    title = "The body is not a DER RFC 3161 time-stamp request"


class LocalTimestampAuthority:
    def __init__(self, certificates: SealCertificates) -> None:
        if certificates.timestamping_key is None or not certificates.timestamping_chain:
            raise RuntimeError("the seal's certificates hold no local time-stamp authority")
        self.key_pem = certificates.timestamping_key
        self.chain = certificates.timestamping_chain
        self._stamper: TimeStamper | None = None

    def _timestamper(self) -> TimeStamper:
        if self._stamper is None:
            from pyhanko.keys import load_private_key_from_pemder_data
            from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
            from pyhanko_certvalidator.registry import SimpleCertificateStore

            chain = load_certificates(self.chain)
            issuers = SimpleCertificateStore()  # type: ignore[no-untyped-call]  # unannotated
            issuers.register_multiple(chain[1:])
            self._stamper = DummyTimeStamper(
                tsa_cert=chain[0],
                tsa_key=load_private_key_from_pemder_data(self.key_pem.encode(), None),
                certs_to_embed=issuers,
            )
        return self._stamper

    def reply(self, query: bytes) -> bytes:
        """The DER ``TimeStampResp`` for a DER ``TimeStampReq`` (CPU-bound: an RSA signature)."""
        from asn1crypto import tsp
        from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

        try:
            request = tsp.TimeStampReq.load(query)
            request.native  # noqa: B018 - parses every field now, not lazily later
        except (ValueError, TypeError) as exc:
            raise BadTimestampQuery() from exc
        stamper = self._timestamper()
        assert isinstance(stamper, DummyTimeStamper)
        return stamper.request_tsa_response(request).dump()  # type: ignore[no-any-return]
