"""The kit's ``Transaction`` dependency: a route's unit of work, committed
after the route returns and before its response is sent."""

from __future__ import annotations

import uuid

from mindlinks_dev.harness import Running


async def test_the_commit_comes_before_the_response(toy: Running) -> None:
    thing_id = uuid.uuid4().hex
    path = f"/v1/alphas/things/{thing_id}"
    response = await toy.client("alpha").put(path, json={"size": 3})
    assert response.status_code == 201, response.text
    moments = toy.apps["alpha"].state.moments
    assert [m for m in moments if thing_id in m[1]] == [("committed", thing_id), ("sent", path)]
    stored = await toy.runtime("alpha").table("things").get({"id": thing_id})
    assert stored is not None
    assert stored["size"] == 3


async def test_nothing_is_committed_when_the_route_raises(toy: Running) -> None:
    thing_id = uuid.uuid4().hex
    response = await toy.client("alpha").put(f"/v1/alphas/things/{thing_id}", json={"size": -1})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid-input"
    assert ("committed", thing_id) not in toy.apps["alpha"].state.moments
    assert await toy.runtime("alpha").table("things").get({"id": thing_id}) is None


async def test_a_failed_commit_is_the_problem_response(toy: Running) -> None:
    path = f"/v1/alphas/things/{uuid.uuid4().hex}"
    first = await toy.client("alpha").put(path, json={"size": 1})
    assert first.status_code == 201
    again = await toy.client("alpha").put(path, json={"size": 2})
    assert again.status_code == 409, again.text
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["code"] == "condition-failed"
