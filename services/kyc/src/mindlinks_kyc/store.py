"""The kyc service's storage: the ``sessions`` and ``documents`` tables and the
``kyc-documents`` bucket. Nothing else reads or writes them.

``sessions`` also holds one pointer item per user (``id = "user:<userId>"``,
``latestSessionId``, ``version``): it answers "my KYC" without a peer call and,
moved with optimistic locking in the same transaction as a new session, keeps
two concurrent requests from opening two sessions. Pointer items carry neither
``contractorId`` nor ``providerSessionId``, so they stay out of both indexes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mindlinks_kit.dynamo import Item, StaleVersion, Table, UnitOfWork, values
from mindlinks_kit.pages import query_page
from mindlinks_kit.records import Record

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

from mindlinks_kyc.domain import Document, Session

POINTER_PREFIX = "user:"
SESSIONS = Record(Session)
DOCUMENTS = Record(Document)


def _session_from(item: Item) -> Session:
    # Sessions from before updates were recorded.
    return SESSIONS.read({"updatedAt": item["createdAt"], **item})


class KycStore:
    def __init__(self, sessions: Table, documents: Table) -> None:
        self.sessions = sessions
        self.documents_table = documents

    async def session(self, session_id: str) -> Session | None:
        if session_id.startswith(POINTER_PREFIX):
            return None
        item = await self.sessions.get({"id": session_id})
        return _session_from(item) if item else None

    async def sessions_page(
        self,
        index: str,
        key: str,
        value: str,
        *,
        oldest_first: bool,
        limit: int,
        start: Item | None,
    ) -> tuple[list[Session], Item | None]:
        """One page of an index (``createdAt`` its sort key); the next page's start
        key only when more items follow (read one beyond the page to know)."""
        items, last = await query_page(
            self.sessions, index, {key: value}, limit, start, forward=oldest_first
        )
        return [_session_from(i) for i in items], last

    async def session_by_provider(self, provider_session_id: str) -> Session | None:
        items, _ = await self.sessions.query(
            "providerSessionId = :p",
            values=values(p=provider_session_id),
            index="by-provider-session",
            limit=1,
        )
        # The index is eventually consistent: read the item itself for its version.
        return await self.session(items[0]["id"]) if items else None

    async def latest_for_user(self, user_id: str) -> tuple[Session | None, int | None]:
        pointer = await self.sessions.get({"id": POINTER_PREFIX + user_id})
        if pointer is None:
            return None, None
        return await self.session(pointer["latestSessionId"]), int(pointer["version"])

    def add_session(self, uow: UnitOfWork, session: Session, pointer_version: int | None) -> None:
        uow.create(self.sessions, SESSIONS.item(session), key="id")
        pointer = {
            "id": POINTER_PREFIX + session.user_id,
            "latestSessionId": session.id,
            "updatedAt": session.created_at,
        }
        if pointer_version is None:
            uow.create(self.sessions, pointer, key="id", on_conflict=StaleVersion())
        else:
            uow.replace(self.sessions, pointer, expected_version=pointer_version)

    def replace_session(self, uow: UnitOfWork, session: Session, *, expected_version: int) -> None:
        uow.replace(self.sessions, SESSIONS.item(session), expected_version=expected_version)

    async def documents(self, session_id: str, limit: int) -> list[Document]:
        items, _ = await self.documents_table.query(
            "sessionId = :s", values=values(s=session_id), index="by-session", limit=limit
        )
        return sorted((DOCUMENTS.read(i) for i in items), key=lambda d: d.created_at)

    def add_document(self, uow: UnitOfWork, document: Document) -> None:
        uow.create(self.documents_table, DOCUMENTS.item(document), key="id")


class DocumentBucket:
    """``kyc-documents``: contractors upload straight to S3 with a presigned POST
    whose policy admits exactly the declared object (type and size)."""

    def __init__(self, s3: S3Client, name: str) -> None:
        self.s3 = s3
        self.name = name

    async def presigned_post(
        self, key: str, content_type: str, size: int, expires_in: int
    ) -> tuple[str, dict[str, str]]:
        post: dict[str, Any] = await self.s3.generate_presigned_post(
            Bucket=self.name,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", size, size]],
            ExpiresIn=expires_in,
        )
        return str(post["url"]), {str(k): str(v) for k, v in post["fields"].items()}
