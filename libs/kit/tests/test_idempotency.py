from __future__ import annotations

import uuid

from mindlinks_dev.harness import Running


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
