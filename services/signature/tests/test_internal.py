"""``GET /internal/signatures?contractId=``: a contract's signatures for the
admin service — in signing order, paged, with unfinished ones — and nobody else."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from conftest import Parties

LIST = "/internal/signatures"
FIELDS = {
    "id",
    "contractId",
    "signerRole",
    "signerUserId",
    "signatureName",
    "signedAt",
    "ipAddress",
    "userAgent",
    "pdfSha256",
    "ledgerReceipt",
    "finalPdfSha256",
    "signerCompanyId",
    "signerCompanyRole",
    "stepUp",
    "amendment",
    "state",
}


class LostMove(httpx.AsyncBaseTransport):
    """The contract service, reached through a network that drops the first
    status move: the signing stops after its ledger entry, ``pending``."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.dropped = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.dropped and request.url.path.endswith("/transitions"):
            self.dropped = True
            raise httpx.ConnectError("connection reset", request=request)
        return await self.inner.handle_async_request(request)


async def listed(world: Parties, **params: Any) -> httpx.Response:
    return await world.fleet.client("signature").get(
        LIST, params=params, headers=world.fleet.service_bearer("admin")
    )


async def test_a_contracts_signatures_in_signing_order_with_cursors(world: Parties) -> None:
    client, contractor, contract = await world.sent()
    cid = contract["id"]
    assert (await listed(world, contractId=cid)).json() == {"items": [], "nextCursor": None}
    for account in (client, contractor):
        signed = await world.sign(account, cid)
        assert signed.status_code == 201, signed.text

    first = await listed(world, contractId=cid, limit=1)
    assert first.status_code == 200, first.text
    [by_client] = first.json()["items"]
    assert set(by_client) == FIELDS  # a typed name and evidence; no image, no bytes
    assert (by_client["signerRole"], by_client["state"]) == ("client", "recorded")
    assert (by_client["signerCompanyId"], by_client["signerCompanyRole"]) == (
        client.company_id,
        "owner",
    )
    assert isinstance(by_client["ledgerReceipt"]["seq"], int)
    cursor = first.json()["nextCursor"]
    rest = await listed(world, contractId=cid, limit=1, cursor=cursor)
    [by_contractor] = rest.json()["items"]
    assert (by_contractor["signerRole"], by_contractor["signerUserId"]) == (
        "contractor",
        contractor.user_id,
    )
    assert by_contractor["finalPdfSha256"] is not None
    assert rest.json()["nextCursor"] is None
    whole = await listed(world, contractId=cid)
    assert [s["id"] for s in whole.json()["items"]] == [by_client["id"], by_contractor["id"]]

    # A cursor belongs to its contract's list.
    other = await listed(world, contractId=uuid.uuid4().hex, cursor=cursor)
    world.problem(other, 422, "invalid-cursor")


async def test_an_unfinished_signing_is_listed_as_pending(world: Parties) -> None:
    client, _, contract = await world.sent()
    peers = world.fleet.runtime("signature").peers
    app = world.fleet.apps["contract"]
    peers.mount("contract", LostMove(app))
    try:
        stopped = await world.sign(client, contract["id"])
    finally:
        peers.mount("contract", httpx.ASGITransport(app=app))
    assert stopped.status_code >= 500, stopped.text
    [pending] = (await listed(world, contractId=contract["id"])).json()["items"]
    assert (pending["state"], pending["signerRole"]) == ("pending", "client")
    assert pending["ledgerReceipt"] is None  # recorded on the signature when it completes

    finished = await world.sign(client, contract["id"])
    assert finished.status_code == 201, finished.text
    [done] = (await listed(world, contractId=contract["id"])).json()["items"]
    assert done["state"] == "recorded"


async def test_bad_input_is_refused(world: Parties) -> None:
    for params in (
        {},
        {"contractId": ""},
        {"contractId": "x" * 65},
        {"contractId": "c", "limit": 0},
        {"contractId": "c", "limit": 101},
    ):
        world.problem(await listed(world, **params), 422, "invalid-input")
    world.problem(await listed(world, contractId="c", cursor="!!"), 422, "invalid-cursor")


@pytest.mark.parametrize("service", ["contract", "ledger", "payment", "signature"])
async def test_only_the_admin_service_may_list(world: Parties, service: str) -> None:
    api = world.fleet.client("signature")
    params = {"contractId": "c-1"}
    refused = await api.get(LIST, params=params, headers=world.fleet.service_bearer(service))
    world.problem(refused, 403, "forbidden")
    world.problem(await api.get(LIST, params=params), 401, "unauthorized")
    # User tokens are not service credentials, an admin user's included.
    for role in ("admin", "client"):
        user = world.fleet.bearer(uuid.uuid4().hex, role)
        world.problem(await api.get(LIST, params=params, headers=user), 401, "unauthorized")
