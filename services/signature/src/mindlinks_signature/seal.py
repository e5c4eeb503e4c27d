"""The platform's seal on the final document: a PAdES B-T signature (pyhanko)
made with the platform's KMS key and an RFC 3161 time-stamp.

- **Key**: an asymmetric KMS key (``signing_keys=("seal",)`` in the fleet
  declaration; RSA 3072). pyhanko builds the CMS signed attributes; their raw
  signature comes from KMS ``Sign`` (``MessageType=RAW``: KMS hashes the few
  hundred bytes itself), so the private key never leaves KMS. Locally the key
  lives in the embedded AWS, which signs for real: one code path.
- **Certificates**: the key's chain and the roots to trust are configuration
  (the secret ``signature/seal-certificates``; locally a generated CA).
- **Time-stamp**: an RFC 3161 request over HTTP to ``seal_timestamp_url``
  (locally this service's ``/v1/signatures/dev/timestamps``, see ``local_tsa``).

CPU-bound work (parsing and writing the PDF, hashing, ASN.1) runs in a worker
thread with its own event loop; the two network calls (KMS and the TSA) are
handed back to the service's loop, where its AWS and HTTP clients live
(``LoopBridge``). Those threads are the sealer's own (``SEAL_THREADS``), never
the loop's default executor: a seal waits on the loop, and the loop needs
that executor (the local TSA's reply, name resolution), so seals filling it
would wait on each other forever (``make chaos`` found it at six at once).
Not deterministic (a time-stamp and a signing time each time): see
``service.Signatures._completed`` for why retries stay safe.

pyhanko is imported on first use, not with the service (its import costs a
noticeable part of a start, for a document sealed once per contract).
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

import httpx
import structlog

from mindlinks_kit.errors import Problem

if TYPE_CHECKING:
    from asn1crypto import tsp, x509
    from pyhanko.sign.signers import Signer
    from pyhanko.sign.timestamps import TimeStamper
    from types_aiobotocore_kms import KMSClient

log = structlog.get_logger("mindlinks.signature.seal")
T = TypeVar("T")
SEAL_FIELD = "MindLinksSeal"
KMS_ALGORITHM: Final = "RSASSA_PKCS1_V1_5_SHA_256"
TIMESTAMP_QUERY = "application/timestamp-query"
TIMESTAMP_REPLY = "application/timestamp-reply"
SEAL_THREADS = 16
"""Seals at work at once in one process; more wait their turn. The threads
mostly wait on KMS and the TSA, so they are many: at 30 req/s of ``make
load``'s mix the step's p99 was 1.6 and 1.8 s with four (seals queued behind
each other), 1.1 s with sixteen, 0.8 s on the default executor (one run
each; that executor is the one that deadlocks)."""


class SealUnavailable(Problem):
    """The key, the time-stamp authority or the certificates failed; the
    signing is not completed (a retry seals again)."""

    status = 503
    code = "seal-unavailable"
    title = "The document could not be sealed now; try again"


@dataclass(frozen=True)
class SealCertificates:
    """The secret ``signature/seal-certificates``: PEM chains."""

    chain: tuple[str, ...]
    """The seal key's certificate first, then its issuers."""
    trust_roots: tuple[str, ...]
    """The roots a seal (and its time-stamp) must chain to."""
    timestamping_key: str | None = None
    """Local only: the local time-stamp authority's key (PEM) ..."""
    timestamping_chain: tuple[str, ...] = ()
    """... and its certificate chain."""

    @classmethod
    def parse(cls, secret: str) -> SealCertificates:
        data = json.loads(secret)
        tsa = data.get("timestamping") or {}
        return cls(
            chain=tuple(data["chain"]),
            trust_roots=tuple(data["trustRoots"]),
            timestamping_key=tsa.get("key"),
            timestamping_chain=tuple(tsa.get("chain", ())),
        )


def load_certificates(pems: tuple[str, ...]) -> list[x509.Certificate]:
    from pyhanko.keys import load_certs_from_pemder_data

    return [c for pem in pems for c in load_certs_from_pemder_data(pem.encode())]


class LoopBridge:
    """Runs a coroutine on the loop this was made on, from a worker thread's loop."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()

    async def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if asyncio.get_running_loop() is self.loop:
            return await coroutine
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))


def kms_signer(
    kms: KMSClient,
    key_id: str,
    certificates: list[x509.Certificate],
    bridge: LoopBridge,
) -> Signer:
    """A pyhanko ``Signer`` whose raw RSA signature comes from KMS ``Sign``."""
    from asn1crypto import algos
    from pyhanko.sign.signers import Signer
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    leaf = certificates[0]
    size = leaf.public_key.byte_size

    class KmsSigner(Signer):
        async def async_sign_raw(
            self, data: bytes, digest_algorithm: str, dry_run: bool = False
        ) -> bytes:
            if digest_algorithm != "sha256":  # the seal's metadata asks for sha256
                raise ValueError(f"the seal key signs sha256 only, not {digest_algorithm}")
            if dry_run:  # pyhanko sizes the signature container first
                return bytes(size)
            return await bridge.call(_kms_sign(kms, key_id, data))

    issuers = SimpleCertificateStore()  # type: ignore[no-untyped-call]  # unannotated __init__
    issuers.register_multiple(certificates[1:])
    return KmsSigner(
        signing_cert=leaf,
        cert_registry=issuers,
        signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
    )


async def _kms_sign(kms: KMSClient, key_id: str, data: bytes) -> bytes:
    answer = await kms.sign(
        KeyId=key_id, Message=data, MessageType="RAW", SigningAlgorithm=KMS_ALGORITHM
    )
    return answer["Signature"]


def http_timestamper(post: Callable[[bytes], Awaitable[bytes]], bridge: LoopBridge) -> TimeStamper:
    """An RFC 3161 client (pyhanko's ``TimeStamper``) posting with ``post``
    on the service's loop (its shared httpx client)."""
    from asn1crypto import tsp
    from pyhanko.sign.timestamps import TimeStamper

    class HttpTimeStamper(TimeStamper):
        async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
            return tsp.TimeStampResp.load(await bridge.call(_coroutine(post(req.dump()))))

    return HttpTimeStamper()  # type: ignore[no-untyped-call]  # pyhanko's __init__ is unannotated


async def _coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


class TimestampClient:
    """POSTs a DER time-stamp query to the TSA and answers the DER reply."""

    def __init__(self, http: httpx.AsyncClient, url: str, timeout: float) -> None:
        self.http = http
        self.url = url
        self.timeout = timeout

    def use(self, client: httpx.AsyncClient) -> None:
        """Post through ``client`` to the same path (tests: the service's own
        app in process, where the local TSA route has no socket)."""
        self.http = client
        self.url = httpx.URL(self.url).path

    async def post(self, query: bytes) -> bytes:
        try:
            response = await self.http.post(
                self.url,
                content=query,
                headers={"content-type": TIMESTAMP_QUERY},
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            log.warning("seal.tsa-unreachable", error=type(exc).__name__)
            raise SealUnavailable("The time-stamp authority cannot be reached") from None
        if response.status_code != 200 or not response.headers.get("content-type", "").startswith(
            TIMESTAMP_REPLY
        ):
            log.warning("seal.tsa-refused", status=response.status_code)
            raise SealUnavailable("The time-stamp authority refused the request")
        return response.content


class Sealer:
    """Seals PDFs with the platform's key and a time-stamp."""

    def __init__(
        self,
        *,
        kms: KMSClient,
        key_id: str,
        certificates: SealCertificates,
        timestamps: TimestampClient,
    ) -> None:
        self.bridge = LoopBridge()
        self.pool = ThreadPoolExecutor(SEAL_THREADS, thread_name_prefix="seal")
        self.kms = kms
        self.key_id = key_id
        self.certificates = certificates
        self.timestamps = timestamps
        self._made: tuple[Signer, TimeStamper] | None = None

    def signers(self) -> tuple[Signer, TimeStamper]:
        """Made on first use (imports pyhanko); the time-stamper keeps the
        size estimate pyhanko asks of it once (a first request to the TSA)."""
        if self._made is None:
            chain = load_certificates(self.certificates.chain)
            self._made = (
                kms_signer(self.kms, self.key_id, chain, self.bridge),
                http_timestamper(self._post, self.bridge),
            )
        return self._made

    async def _post(self, query: bytes) -> bytes:
        return await self.timestamps.post(query)

    async def seal(self, pdf: bytes) -> bytes:
        """``pdf`` with the seal appended as an incremental update (its bytes
        stay a prefix of the result)."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.pool, asyncio.run, self._seal(pdf))
        except SealUnavailable:
            raise
        except Exception as exc:  # a KMS or PDF failure: the signing is not completed
            # The details may name hosts and keys: logged, never answered.
            log.exception("seal.failed", error=type(exc).__name__)
            raise SealUnavailable() from exc

    async def close(self) -> None:
        """At shutdown: seals under way finish, none start."""
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def _seal(self, pdf: bytes) -> bytes:
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers

        meta = signers.PdfSignatureMetadata(
            field_name=SEAL_FIELD,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            certify=True,
            # A certification forbidding any change: readers show the document
            # as certified and flag any later edit.
            docmdp_permissions=fields.MDPPerm.NO_CHANGES,
            reason="Sealed by Mind-Links: signed by every party; see the certificate page",
            name="Mind-Links",
        )
        signer, timestamper = self.signers()
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        pdf_signer = signers.PdfSigner(meta, signer=signer, timestamper=timestamper)
        out = await pdf_signer.async_sign_pdf(writer)
        return out.getvalue()  # type: ignore[no-any-return]
