"""Document uploads: a presigned S3 POST that admits exactly the declared file.

moto accepts any presigned POST without evaluating its policy (moto 5.x), so
the policy is checked here the way S3 evaluates it — its conditions, and its
SigV4 signature with the test credentials — and a real upload to moto proves
the form fields work.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from mindlinks_dev.harness import Running
from mindlinks_dev.problem import problem

if TYPE_CHECKING:
    from conftest import ContractorAccount, Contractors

SESSIONS = "/v1/kyc/sessions"
PDF = b"%PDF-1.7\n" + b"0" * 1000


async def open_session(fleet: Running, account: ContractorAccount) -> str:
    response = await fleet.client("kyc").post(SESSIONS, headers=account.headers)
    assert response.status_code in (200, 201), response.text
    session_id: str = response.json()["id"]
    return session_id


def document(**overrides: Any) -> dict[str, Any]:
    return {"kind": "passport", "contentType": "application/pdf", "size": len(PDF), **overrides}


def admits(policy: dict[str, Any], form: dict[str, str], length: int) -> bool:
    """S3's evaluation of a POST policy's conditions against a form upload."""
    for condition in policy["conditions"]:
        if isinstance(condition, dict):
            ((name, expected),) = condition.items()
            if form.get(name) != expected:
                return False
        elif condition[0] == "content-length-range":
            if not condition[1] <= length <= condition[2]:
                return False
        elif condition[0] == "eq" and form.get(condition[1].lstrip("$")) != condition[2]:
            return False
    return True


def sigv4(secret: str, credential: str, policy_b64: str) -> str:
    _, date, region, service, _ = credential.split("/")
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, policy_b64.encode(), hashlib.sha256).hexdigest()


async def test_the_upload_form_admits_exactly_the_declared_document(
    fleet: Running, contractors: Contractors
) -> None:
    grace = await contractors.create()
    session_id = await open_session(fleet, grace)
    response = await fleet.client("kyc").post(
        f"{SESSIONS}/{session_id}/documents", headers=grace.headers, json=document()
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"documentId", "upload", "expiresAt"}
    fields = body["upload"]["fields"]
    key = f"kyc/{session_id}/{body['documentId']}"
    bucket = fleet.runtime("kyc").settings.physical("kyc-documents")
    assert fields["key"] == key
    assert fields["Content-Type"] == "application/pdf"
    assert body["upload"]["url"].rstrip("/").endswith(bucket)

    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert {"Content-Type": "application/pdf"} in conditions
    assert ["content-length-range", len(PDF), len(PDF)] in conditions
    assert {"bucket": bucket} in conditions
    assert {"key": key} in conditions
    expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert timedelta(minutes=9) < expiration - datetime.now(UTC) <= timedelta(minutes=10)
    expires_at = datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
    assert abs(expires_at - expiration) < timedelta(seconds=5)
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]
    assert fields["x-amz-signature"] == sigv4(secret, fields["x-amz-credential"], fields["policy"])

    form = {**fields, "bucket": bucket}
    assert admits(policy, form, len(PDF))
    assert not admits(policy, form, len(PDF) + 1)  # too big
    assert not admits(policy, form, 1)  # not what was declared
    assert not admits(policy, {**form, "Content-Type": "text/html"}, len(PDF))  # wrong type
    assert not admits(policy, {**form, "key": f"kyc/{session_id}/other"}, len(PDF))

    async with httpx.AsyncClient() as http:
        uploaded = await http.post(
            body["upload"]["url"], data=fields, files={"file": ("p.pdf", PDF, "application/pdf")}
        )
    assert uploaded.status_code in (200, 201, 204), uploaded.text
    stored = await fleet.runtime("kyc").aws.s3.head_object(Bucket=bucket, Key=key)
    assert stored["ContentLength"] == len(PDF)
    assert stored["ContentType"] == "application/pdf"

    read = await fleet.client("kyc").get(f"{SESSIONS}/{session_id}", headers=grace.headers)
    assert [d["id"] for d in read.json()["documents"]] == [body["documentId"]]
    assert read.json()["documents"][0] == {
        "id": body["documentId"],
        "kind": "passport",
        "contentType": "application/pdf",
        "size": len(PDF),
        "createdAt": read.json()["documents"][0]["createdAt"],
    }


async def test_every_kind_and_type_is_accepted(fleet: Running, contractors: Contractors) -> None:
    grace = await contractors.create()
    session_id = await open_session(fleet, grace)
    path = f"{SESSIONS}/{session_id}/documents"
    for kind, content_type in [
        ("id_card", "image/jpeg"),
        ("driving_licence", "image/png"),
        ("proof_of_address", "application/pdf"),
        ("selfie", "image/jpeg"),
    ]:
        response = await fleet.client("kyc").post(
            path,
            headers=grace.headers,
            json=document(kind=kind, contentType=content_type, size=10 * 1024 * 1024),
        )
        assert response.status_code == 201, response.text
        assert response.json()["upload"]["fields"]["Content-Type"] == content_type


async def test_bad_documents_are_refused(fleet: Running, contractors: Contractors) -> None:
    grace = await contractors.create()
    session_id = await open_session(fleet, grace)
    path = f"{SESSIONS}/{session_id}/documents"
    kyc = fleet.client("kyc")
    for bad in [
        document(kind="utility_bill"),
        document(contentType="text/html"),
        document(contentType="image/gif"),
        document(size=10 * 1024 * 1024 + 1),
        document(size=0),
        document(size="big"),
        {**document(), "extra": True},
        {"kind": "passport"},
    ]:
        problem(await kyc.post(path, headers=grace.headers, json=bad), 422, "invalid-input")


async def test_only_the_owner_uploads_to_an_open_session(
    fleet: Running, contractors: Contractors
) -> None:
    grace, other = await contractors.create(), await contractors.create("Alan Turing")
    session_id = await open_session(fleet, grace)
    path = f"{SESSIONS}/{session_id}/documents"
    kyc = fleet.client("kyc")
    problem(await kyc.post(path, json=document()), 401, "unauthorized")
    problem(await kyc.post(path, headers=other.headers, json=document()), 404, "not-found")
    admin = fleet.bearer(uuid.uuid4().hex, "admin")
    problem(await kyc.post(path, headers=admin, json=document()), 403, "forbidden")
    client = fleet.bearer(grace.user_id, "client")
    problem(await kyc.post(path, headers=client, json=document()), 403, "forbidden")
    service = fleet.service_bearer("admin")
    problem(await kyc.post(path, headers=service, json=document()), 401, "unauthorized")
    unknown = f"{SESSIONS}/{uuid.uuid4().hex}/documents"
    problem(await kyc.post(unknown, headers=grace.headers, json=document()), 404, "not-found")

    decided = await kyc.post(
        f"/v1/kyc/dev/sessions/{session_id}/decide", json={"decision": "approved"}
    )
    assert decided.status_code == 202
    problem(await kyc.post(path, headers=grace.headers, json=document()), 409, "session-closed")


async def test_a_session_holds_a_bounded_number_of_documents(
    fleet: Running, contractors: Contractors
) -> None:
    grace = await contractors.create()
    session_id = await open_session(fleet, grace)
    path = f"{SESSIONS}/{session_id}/documents"
    limit = fleet.deps("kyc").kyc.policy.max_documents
    for _ in range(limit):
        response = await fleet.client("kyc").post(path, headers=grace.headers, json=document())
        assert response.status_code == 201
    problem(
        await fleet.client("kyc").post(path, headers=grace.headers, json=document()),
        409,
        "too-many-documents",
    )
