"""Digests anchored in the Object Lock bucket, and the task that writes them.

Each digest ``{treeSize, rootHash, tipSeq, tipHash, issuedAt}`` is written as
canonical JSON to ``s3://<ledger-digests>/digests/<issuedAt>-<treeSize>.json``
with ``ObjectLockMode=COMPLIANCE`` and a retain-until date: in AWS nobody, not
even the account root, can delete or overwrite that version before the date.
``heads["digest#latest"]`` points at the newest (a convenience: the objects
are the evidence).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import structlog
from botocore.exceptions import ClientError
from pydantic import ValidationError

from mindlinks_ledger.chain import canonical_json
from mindlinks_ledger.domain import Anchored, Digest, JournalBroken
from mindlinks_ledger.store import JournalStore
from mindlinks_ledger.verification import DigestDoc

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

log = structlog.get_logger("mindlinks.ledger.anchoring")
PREFIX = "digests/"
LOCK_MODE: Final = "COMPLIANCE"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def digest_key(digest: Digest) -> str:
    return f"{PREFIX}{digest.issued_at}-{digest.tree_size}.json"


def digest_of(raw: Any) -> Digest:
    doc = DigestDoc.model_validate(raw)
    return Digest(doc.tree_size, doc.root_hash, doc.tip_seq, doc.tip_hash, doc.issued_at)


class DigestArchive:
    def __init__(self, s3: S3Client, bucket: str, store: JournalStore, retention_days: int) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.store = store
        self.retention = timedelta(days=retention_days)

    async def put(self, digest: Digest) -> Anchored:
        key = digest_key(digest)
        retain_until = _parse_time(digest.issued_at) + self.retention
        await self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=canonical_json(digest.as_json()),
            ContentType="application/json",
            ObjectLockMode=LOCK_MODE,
            ObjectLockRetainUntilDate=retain_until,
            ChecksumAlgorithm="SHA256",
            IfNoneMatch="*",  # a digest is written once; never a second version
        )
        anchored = Anchored(digest, key, _iso(retain_until), LOCK_MODE)
        await self.store.point_to_digest(
            {**digest.as_json(), "key": key, "retainUntil": anchored.retain_until}
        )
        return anchored

    async def get(self, key: str) -> Anchored | None:
        try:
            response = await self.s3.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404", "NotFound"):
                return None
            raise
        async with response["Body"] as body:
            raw = await body.read()
        try:
            digest = digest_of(json.loads(raw))
        except (ValueError, ValidationError) as exc:
            raise JournalBroken(f"the anchored digest {key} is unreadable: {exc}") from None
        until = response.get("ObjectLockRetainUntilDate")
        return Anchored(
            digest,
            key,
            _iso(until) if isinstance(until, datetime) else "",
            str(response.get("ObjectLockMode", "")),
        )

    async def find(self, digest: Digest) -> Anchored | None:
        """The anchored object for a digest's ``issuedAt`` and ``treeSize``, if any."""
        if not digest.issued_at or "/" in digest.issued_at:
            return None
        return await self.get(digest_key(digest))

    async def latest(self) -> Anchored | None:
        pointer = await self.store.latest_digest()
        if pointer is None:
            return None
        anchored = await self.get(str(pointer["key"]))
        if anchored is None:
            raise JournalBroken(f"the newest digest {pointer['key']} is missing from the bucket")
        return anchored


async def periodically(
    work: Callable[[], Awaitable[object]],
    interval: float,
    name: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    wake: asyncio.Event | None = None,
) -> None:
    """Run ``work`` every ``interval`` seconds, or as soon as ``wake`` is set,
    until cancelled (wakes while it works are one more run, not one each);
    failures are logged, never fatal."""
    while True:
        if wake is None:
            await sleep(interval)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=interval)
            wake.clear()
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("ledger.periodic_failed", task=name)
