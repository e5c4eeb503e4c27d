"""A signature needs the signer's step-up token for this contract: a fresh
one-time code, confirmed at auth. Its method and time are recorded on the
signature, in its ledger entry and on the certificate of completion."""

from __future__ import annotations

import io
import time
import uuid
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pypdf import PdfReader

from mindlinks_dev import totp
from mindlinks_dev.parties import REAL_PEERS
from mindlinks_dev.problem import problem
from mindlinks_fleet.events import SessionEnded
from mindlinks_fleet.step_up import CONTRACT_SIGN, STEP_UP_AUDIENCE, purpose

if TYPE_CHECKING:
    from conftest import ClientAccount, ContractorAccount, Parties


def refused(response: Any, contract_id: str) -> dict[str, Any]:
    """A ``403 step-up-required`` that tells the dashboard what to do."""
    body = problem(response, 403, "step-up-required")
    assert body["stepUp"] == {
        "purpose": f"contract-sign:{contract_id}",
        "methods": ["email", "totp"],
        "challenge": "/v1/auth/step-up/challenges",
        "confirm": "/v1/auth/step-up",
    }
    assert "insufficient_user_authentication" in response.headers["www-authenticate"]
    return body


async def still_sent(world: Parties, contract_id: str) -> None:
    """Nothing happened: no signature, no ledger entry, the contract unmoved."""
    assert (await world.contract(contract_id))["status"] == "sent_for_signature"
    assert await world.ledger_entries(contract_id) == []


async def test_without_a_step_up_token_nobody_signs(world: Parties) -> None:
    client, _, contract = await world.sent()
    cid = contract["id"]
    body = refused(await world.sign(client, cid, stepUpToken=None), cid)
    assert "POST /v1/auth/step-up/challenges" in body["detail"]
    await still_sent(world, cid)


async def test_another_users_step_up_token_is_refused(world: Parties) -> None:
    client, contractor, contract = await world.sent()
    cid = contract["id"]
    theirs = world.step_up(contractor, cid)
    refused(await world.sign(client, cid, stepUpToken=theirs), cid)
    await still_sent(world, cid)


async def test_a_token_for_another_contract_is_refused(world: Parties) -> None:
    client, _, contract = await world.sent()
    _, _, other = await world.sent()
    cid = contract["id"]
    refused(await world.sign(client, cid, stepUpToken=world.step_up(client, other["id"])), cid)
    await still_sent(world, cid)


async def test_an_expired_step_up_token_is_refused(world: Parties) -> None:
    client, _, contract = await world.sent()
    cid = contract["id"]
    stale = world.step_up(client, cid, ttl_seconds=-60)  # past the verifiers' leeway
    body = refused(await world.sign(client, cid, stepUpToken=stale), cid)
    assert body["reason"] == "the token is expired"
    await still_sent(world, cid)


async def test_an_access_token_is_no_step_up_token(world: Parties) -> None:
    client, _, contract = await world.sent()
    cid = contract["id"]
    access = client.headers["authorization"].removeprefix("Bearer ")
    refused(await world.sign(client, cid, stepUpToken=access), cid)
    service = world.fleet.service_bearer("contract")["authorization"].removeprefix("Bearer ")
    refused(await world.sign(client, cid, stepUpToken=service), cid)
    refused(await world.sign(client, cid, stepUpToken="not-a-jwt"), cid)
    await still_sent(world, cid)


async def test_a_forged_step_up_token_is_refused(world: Parties) -> None:
    """Claims a step-up token would carry, signed with a key that is not auth's
    (under the ``kid`` of auth's signing key): the JWKS check refuses it."""
    client, _, contract = await world.sent()
    cid = contract["id"]
    now = int(time.time())
    keys = world.fleet.deps("auth").keys
    forged = jwt.encode(
        {
            "iss": keys.issuer,
            "aud": STEP_UP_AUDIENCE,
            "sub": client.user_id,
            "typ": "step-up",
            "purpose": purpose(CONTRACT_SIGN, cid),
            "method": "totp",
            "auth_time": now,
            "iat": now,
            "exp": now + 300,
        },
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        algorithm="RS256",
        headers={"kid": keys.active.kid},
    )
    refused(await world.sign(client, cid, stepUpToken=forged), cid)
    await still_sent(world, cid)


async def test_a_step_up_token_is_no_access_token(world: Parties) -> None:
    client, _, contract = await world.sent()
    cid = contract["id"]
    step_up = {"authorization": f"Bearer {world.step_up(client, cid)}"}
    signatures = world.fleet.client("signature")
    problem(await signatures.get(f"/v1/signatures/contracts/{cid}", headers=step_up), 401)
    problem(
        await signatures.post(
            f"/v1/signatures/contracts/{cid}/sign",
            headers=step_up,
            json={
                "consent": True,
                "signatureName": "Ada",
                "stepUpToken": world.step_up(client, cid),
            },
        ),
        401,
    )
    await still_sent(world, cid)


async def test_a_step_up_token_of_an_ended_session_is_refused(world: Parties) -> None:
    client, _, contract = await world.sent()
    cid = contract["id"]
    session = uuid.uuid4().hex
    token = world.step_up(client, cid, session_id=session)
    # The signer logs out: auth's ``session.ended`` reaches the signature service.
    await world.emit(
        "auth",
        "session.ended",
        SessionEnded(session_id=session, user_id=client.user_id, reason="logout"),
    )
    body = refused(await world.sign(client, cid, stepUpToken=token), cid)
    assert body["reason"] == "the token is revoked"
    await still_sent(world, cid)


@pytest.mark.parametrize("token", ["", "x" * 4097, 42])
async def test_a_malformed_step_up_token_is_bad_input(world: Parties, token: Any) -> None:
    client, _, contract = await world.sent()
    problem(await world.sign(client, contract["id"], stepUpToken=token), 422, "invalid-input")


async def test_the_method_and_time_are_recorded_everywhere(world: Parties) -> None:
    client, contractor, contract = await world.sent()
    cid = contract["id"]
    signed = await world.sign(client, cid, stepUpToken=world.step_up(client, cid, method="email"))
    assert signed.status_code == 201, signed.text
    first = signed.json()["stepUp"]
    assert first["method"] == "email"
    assert abs(_epoch(first["verifiedAt"]) - time.time()) < 60

    done = await world.sign(
        contractor, cid, stepUpToken=world.step_up(contractor, cid, method="totp")
    )
    assert done.status_code == 201, done.text
    second = done.json()["stepUp"]
    assert second["method"] == "totp"

    entries = {e["data"]["signerRole"]: e["data"] for e in await world.ledger_entries(cid)}
    assert entries["client"]["stepUp"] == first
    assert entries["contractor"]["stepUp"] == second

    listed = await world.fleet.client("signature").get(
        f"/v1/signatures/contracts/{cid}", headers=client.headers
    )
    assert [s["stepUp"] for s in listed.json()["items"]] == [first, second]

    page = PdfReader(io.BytesIO(await world.document(cid, "final"))).pages[-1]
    text = " ".join(page.extract_text().split())
    assert f"Identity check one-time code by email, confirmed at {first['verifiedAt']}" in text
    assert (
        "Identity check one-time code from an authenticator app, confirmed at "
        f"{second['verifiedAt']}"
    ) in text


async def test_a_retry_with_a_new_token_replays_the_signature(world: Parties) -> None:
    client, _, contract = await world.sent()
    cid = contract["id"]
    key = {"Idempotency-Key": f"sign-{cid}"}
    first = await world.sign(client, cid, headers=key)
    assert first.status_code == 201, first.text
    # The dashboard lost the answer and its token expired: a new code, same key.
    again = await world.sign(client, cid, headers=key)
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    # ...but never without a code, even as a replay.
    refused(await world.sign(client, cid, headers=key, stepUpToken=None), cid)


@pytest.mark.skipif(not REAL_PEERS, reason="needs the contractor registered at auth")
async def test_a_code_confirmed_at_auth_signs(world: Parties) -> None:
    """Auth's real routes, in process: the contractor turns TOTP on, asks for
    a challenge, confirms the app's code, and signs with the token."""
    client, contractor, contract = await _pair_with_sent_contract(world)
    cid = contract["id"]
    assert (await world.sign(client, cid)).status_code == 201
    auth = world.fleet.client("auth")
    secret = (await auth.post("/v1/auth/mfa/setup", headers=contractor.headers)).json()["secret"]
    enabled = await auth.post(
        "/v1/auth/mfa/enable", headers=contractor.headers, json={"code": totp.code(secret)}
    )
    assert enabled.status_code == 204, enabled.text
    challenge = await auth.post(
        "/v1/auth/step-up/challenges",
        headers=contractor.headers,
        json={"method": "totp", "purpose": purpose(CONTRACT_SIGN, cid)},
    )
    assert challenge.status_code == 201, challenge.text
    granted = await auth.post(
        "/v1/auth/step-up",
        headers=contractor.headers,
        json={"challengeId": challenge.json()["challengeId"], "code": totp.code(secret)},
    )
    assert granted.status_code == 200, granted.text
    token = granted.json()["stepUpToken"]
    # The client cannot borrow it; the contractor signs with it.
    refused(await world.sign(client, cid, stepUpToken=token), cid)
    signed = await world.sign(contractor, cid, stepUpToken=token)
    assert signed.status_code == 201, signed.text
    assert signed.json()["stepUp"] == {
        "method": "totp",
        "verifiedAt": granted.json()["verifiedAt"],
    }


async def _pair_with_sent_contract(
    world: Parties,
) -> tuple[ClientAccount, ContractorAccount, dict[str, Any]]:
    """A new pair (its contractor's MFA is this test's own) and a sent contract."""
    client, contractor = await world.pair()
    contract = await world.draft(client, contractor)
    sent = await world.fleet.client("contract").post(
        f"/v1/contracts/{contract['id']}/send", headers=client.headers
    )
    assert sent.status_code == 200, sent.text
    return client, contractor, sent.json()


def _epoch(stamp: str) -> float:
    from mindlinks_kit.clock import parse

    return parse(stamp).timestamp()
