from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from mindlinks_dev.harness import Running
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.errors import Contention
from mindlinks_kit.idempotency import CONTENTION_ATTEMPTS, fingerprint


async def test_same_key_and_body_replays_the_first_response(toy: Running) -> None:
    alpha = toy.client("alpha")
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await alpha.post("/v1/alphas/paid-things", json={"size": 4}, headers=key)
    second = await alpha.post("/v1/alphas/paid-things", json={"size": 4}, headers=key)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"


async def test_same_key_other_body_is_refused(toy: Running) -> None:
    alpha = toy.client("alpha")
    key = {"Idempotency-Key": uuid.uuid4().hex}
    assert (await alpha.post("/v1/alphas/paid-things", json={"size": 1}, headers=key)).is_success
    other = await alpha.post("/v1/alphas/paid-things", json={"size": 2}, headers=key)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency-key-reused"


async def test_a_key_is_required_where_declared(toy: Running) -> None:
    response = await toy.client("alpha").post("/v1/alphas/paid-things", json={"size": 1})
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency-key-required"
    short = await toy.client("alpha").post(
        "/v1/alphas/paid-things", json={"size": 1}, headers={"Idempotency-Key": "x"}
    )
    assert short.status_code == 422


async def test_a_key_still_in_flight_says_when_to_retry(toy: Running) -> None:
    """Found by ``make chaos``: a retry that met its first attempt (still at
    work, or killed with its process) got a bare 409, and a dashboard had no
    way to know it should simply try again."""
    key = uuid.uuid4().hex
    table = toy.runtime("alpha").table("idempotency")
    now = int(time.time())
    await table.put(
        {
            "key": f"caller-1:{key}",
            "fingerprint": fingerprint("POST", "/v1/alphas/paid-things", {"size": 3}),
            "state": "pending",
            "leaseUntil": now + 40,
            "expiresAt": now + 3600,
        }
    )
    alpha = toy.client("alpha")
    retry = await alpha.post(
        "/v1/alphas/paid-things", json={"size": 3}, headers={"Idempotency-Key": key}
    )
    assert retry.status_code == 409
    assert retry.json()["code"] == "idempotency-key-in-flight"
    assert retry.headers["retry-after"] == "5"
    # A crashed attempt's lease is over: the retry does the work.
    await table.put(
        {
            "key": f"caller-1:{key}",
            "fingerprint": fingerprint("POST", "/v1/alphas/paid-things", {"size": 3}),
            "state": "pending",
            "leaseUntil": now - 1,
            "expiresAt": now + 3600,
        }
    )
    done = await alpha.post(
        "/v1/alphas/paid-things", json={"size": 3}, headers={"Idempotency-Key": key}
    )
    assert done.status_code == 201


async def test_a_commit_that_loses_to_a_sibling_runs_again_before_the_caller_hears(
    toy: Running,
) -> None:
    """``Contention`` (a concurrent change to other data than the request
    names): the action runs again at once, up to ``CONTENTION_ATTEMPTS``
    times; past them the 409 reaches the caller and the key is free again."""
    idempotency = toy.runtime("alpha").idempotency
    runs: list[int] = []

    def action(fail_times: int) -> Any:
        async def run(uow: UnitOfWork) -> tuple[int, Any]:
            runs.append(1)
            if len(runs) <= fail_times:
                raise Contention("a sibling moved first")
            return 201, {"runs": len(runs)}

        return run

    for key in (None, uuid.uuid4().hex):
        runs.clear()
        done = await idempotency.run(
            key, scope="s", request_fingerprint="f", action=action(CONTENTION_ATTEMPTS - 1)
        )
        assert (done.status_code, json.loads(done.body)) == (201, {"runs": CONTENTION_ATTEMPTS})

    key = uuid.uuid4().hex
    runs.clear()
    with pytest.raises(Contention):
        await idempotency.run(key, scope="s", request_fingerprint="f", action=action(99))
    assert len(runs) == CONTENTION_ATTEMPTS
    runs.clear()
    again = await idempotency.run(key, scope="s", request_fingerprint="f", action=action(0))
    assert again.status_code == 201  # the key was released, not left pending
