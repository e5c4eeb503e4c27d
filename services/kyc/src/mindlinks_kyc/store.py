"""The kyc service's storage: the ``sessions`` and ``documents`` tables and the
``kyc-documents`` bucket. Nothing else reads or writes them.

``sessions`` also holds one pointer item per user (``id = "user:<userId>"``,
``latestSessionId``, ``version``): it answers "my KYC" without a peer call and,
moved with optimistic locking in the same transaction as a new session, keeps
two concurrent requests from opening two sessions. Pointer items carry neither
``contractorId`` nor ``providerSessionId``, so they stay out of both indexes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from mindlinks_kit.dynamo import Item, StaleVersion, Table, UnitOfWork, values

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

from mindlinks_fleet.internal.kyc import DocumentKind, DocumentType, SessionStatus
from mindlinks_kyc.domain import Document, Session

POINTER_PREFIX = "user:"


def session_item(session: Session) -> Item:
    return {
        "id": session.id,
        "contractorId": session.contractor_id,
        "userId": session.user_id,
        "provider": session.provider,
        "providerSessionId": session.provider_session_id,
        "verificationUrl": session.verification_url,
        "status": session.status,
        "reason": session.reason,
        "decidedAt": session.decided_at,
        "decidedBy": session.decided_by,
        "decisionCode": session.decision_code,
        "applicantName": session.applicant_name,
        "verifiedLegalName": session.verified_legal_name,
        "createdAt": session.created_at,
        "updatedAt": session.updated_at,
        "expiresAt": session.expires_at,
        "version": session.version,
    }


def session_from(item: Item) -> Session:
    return Session(
        id=item["id"],
        contractor_id=item["contractorId"],
        user_id=item["userId"],
        provider=item["provider"],
        provider_session_id=item["providerSessionId"],
        verification_url=item["verificationUrl"],
        status=cast(SessionStatus, item["status"]),
        created_at=item["createdAt"],
        updated_at=item.get("updatedAt") or item["createdAt"],
        expires_at=item["expiresAt"],
        reason=item.get("reason"),
        decided_at=item.get("decidedAt"),
        decided_by=item.get("decidedBy"),
        decision_code=item.get("decisionCode"),
        applicant_name=item.get("applicantName"),
        verified_legal_name=item.get("verifiedLegalName"),
        version=int(item.get("version", 1)),
    )


def document_item(document: Document) -> Item:
    return {
        "id": document.id,
        "sessionId": document.session_id,
        "kind": document.kind,
        "contentType": document.content_type,
        "size": document.size,
        "key": document.key,
        "createdAt": document.created_at,
        "uploadExpiresAt": document.upload_expires_at,
    }


def document_from(item: Item) -> Document:
    return Document(
        id=item["id"],
        session_id=item["sessionId"],
        kind=cast(DocumentKind, item["kind"]),
        content_type=cast(DocumentType, item["contentType"]),
        size=int(item["size"]),
        key=item["key"],
        created_at=item["createdAt"],
        upload_expires_at=item["uploadExpiresAt"],
    )


class KycStore:
    def __init__(self, sessions: Table, documents: Table) -> None:
        self.sessions = sessions
        self.documents_table = documents

    async def session(self, session_id: str) -> Session | None:
        if session_id.startswith(POINTER_PREFIX):
            return None
        item = await self.sessions.get({"id": session_id})
        return session_from(item) if item else None

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
        items, _ = await self.sessions.query(
            "#k = :v",
            names={"#k": key},
            values=values(v=value),
            index=index,
            limit=limit + 1,
            start=start,
            forward=oldest_first,
        )
        page = [session_from(i) for i in items[:limit]]
        if len(items) <= limit:
            return page, None
        tail = items[limit - 1]
        return page, {"id": tail["id"], key: tail[key], "createdAt": tail["createdAt"]}

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
        uow.create(self.sessions, session_item(session), key="id")
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
        uow.replace(self.sessions, session_item(session), expected_version=expected_version)

    async def documents(self, session_id: str, limit: int) -> list[Document]:
        items, _ = await self.documents_table.query(
            "sessionId = :s", values=values(s=session_id), index="by-session", limit=limit
        )
        return sorted((document_from(i) for i in items), key=lambda d: d.created_at)

    def add_document(self, uow: UnitOfWork, document: Document) -> None:
        uow.create(self.documents_table, document_item(document), key="id")


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
