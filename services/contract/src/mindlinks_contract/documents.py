"""The contract PDFs in the ``contract-documents`` bucket:
``contracts/{id}/original.pdf`` (rendered on creation) and
``contracts/{id}/final.pdf`` (the signed original plus the certificate of
completion, stored by the signature service)."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

PDF = "application/pdf"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def digest(data: bytes) -> str:
    """SHA-256 off the event loop (documents can be large)."""
    return await asyncio.to_thread(sha256_hex, data)


class Documents:
    def __init__(self, s3: S3Client, bucket: str, link_ttl_seconds: int) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.link_ttl_seconds = link_ttl_seconds

    async def put(self, key: str, data: bytes, sha256: str) -> None:
        await self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=PDF,
            Metadata={"sha256": sha256},
        )

    async def delete(self, key: str) -> None:
        """Gone (S3 answers a missing key alike: deleting again is fine)."""
        await self.s3.delete_object(Bucket=self.bucket, Key=key)

    async def get(self, key: str) -> bytes | None:
        try:
            response = await self.s3.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        async with response["Body"] as body:
            data: bytes = await body.read()
        return data

    async def link(self, key: str, filename: str) -> tuple[str, str]:
        """A presigned GET URL for ``key`` and when it expires (ISO 8601 UTC)."""
        expires = datetime.now(UTC) + timedelta(seconds=self.link_ttl_seconds)
        url = await self.s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentType": PDF,
                "ResponseContentDisposition": f'inline; filename="{filename}"',
            },
            ExpiresIn=self.link_ttl_seconds,
        )
        at = expires.isoformat(timespec="seconds").replace("+00:00", "Z")
        return url, at

    async def reachable(self) -> None:
        await self.s3.head_bucket(Bucket=self.bucket)
