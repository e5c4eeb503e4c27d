"""``GET /internal/auth/users``: the admin service's account search.

The session's tables are shared by every test, so lists are read to their
end and checked for what this test made, in order, never for exact contents."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mindlinks_dev import lists

if TYPE_CHECKING:
    from conftest import AuthTest

PATH = "/internal/auth/users"


async def _all(t: AuthTest, limit: int, **params: str) -> list[dict[str, Any]]:
    """Every page of a list, following ``nextCursor``."""
    return await lists.read_all(t.auth, PATH, await t.service_headers("admin"), limit, **params)


async def test_exact_email_lookup(t: AuthTest) -> None:
    user = await t.user(role="contractor")
    headers = await t.service_headers("admin")
    # Typed differently: looked up as registration normalized it.
    typed = "  " + user["email"].upper() + " "
    response = await t.auth.get(PATH, headers=headers, params={"email": typed})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["nextCursor"] is None
    [found] = body["items"]
    assert found["createdAt"].endswith("Z")
    assert found == {
        "id": user["id"],
        "email": user["email"],
        "name": "Ada Lovelace",
        "role": "contractor",
        "status": "active",
        "emailVerified": True,
        "createdAt": found["createdAt"],
    }
    # The other filters still apply to the one match.
    for params in ({"role": "client"}, {"status": "suspended"}):
        other = await t.auth.get(PATH, headers=headers, params={"email": user["email"], **params})
        assert other.json() == {"items": [], "nextCursor": None}
    both = await t.auth.get(
        PATH, headers=headers, params={"email": user["email"], "role": "contractor"}
    )
    assert [u["id"] for u in both.json()["items"]] == [user["id"]]
    # Nobody has an unknown address, nor one that could never be registered.
    for email in (t.new_email(), "not an address"):
        nobody = await t.auth.get(PATH, headers=headers, params={"email": email})
        assert nobody.json() == {"items": [], "nextCursor": None}


async def test_by_role_newest_first_with_cursor(t: AuthTest) -> None:
    made = [await t.user(role="contractor") for _ in range(3)]
    admin = await t.user(role="admin")
    items = await _all(t, 2, role="contractor")
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)), "a user on two pages"
    assert {item["role"] for item in items} == {"contractor"}
    assert admin["id"] not in ids
    created = [item["createdAt"] for item in items]
    assert created == sorted(created, reverse=True)
    mine = [i for i in ids if i in {u["id"] for u in made}]
    assert mine == [u["id"] for u in reversed(made)]


async def test_by_role_and_status(t: AuthTest) -> None:
    kept, suspended = await t.user(), await t.user()
    headers = await t.service_headers("admin")
    response = await t.auth.post(
        f"{PATH}/{suspended['id']}/suspend", headers=headers, json={"reason": "fraud"}
    )
    assert response.status_code == 200, response.text
    items = await _all(t, 5, role="client", status="suspended")
    ids = {item["id"] for item in items}
    assert suspended["id"] in ids
    assert kept["id"] not in ids
    assert {(item["role"], item["status"]) for item in items} == {("client", "suspended")}


async def test_scan_by_status_and_everything(t: AuthTest) -> None:
    active, suspended = await t.user(role="contractor"), await t.user(role="admin")
    headers = await t.service_headers("admin")
    await t.auth.post(f"{PATH}/{suspended['id']}/suspend", headers=headers, json={"reason": "x"})

    only_suspended = await _all(t, 3, status="suspended")
    ids = [item["id"] for item in only_suspended]
    assert suspended["id"] in ids
    assert active["id"] not in ids
    assert {item["status"] for item in only_suspended} == {"suspended"}

    everyone = await _all(t, 7)
    ids = [item["id"] for item in everyone]
    assert len(ids) == len(set(ids)), "a user on two pages"
    assert {active["id"], suspended["id"]} <= set(ids)
    # Email-claim items are not accounts.
    assert all(not item["id"].startswith("email#") and item["role"] for item in everyone)


async def test_only_the_admin_service(t: AuthTest) -> None:
    t.problem(await t.auth.get(PATH, headers=await t.service_headers("client")), 403, "forbidden")
    t.problem(await t.auth.get(PATH), 401, "unauthorized")
    # A user's token, even an admin's, is not the admin service's.
    admin = await t.login(await t.user(role="admin"))
    t.problem(await t.auth.get(PATH, headers=t.bearer(admin["accessToken"])), 401, "unauthorized")


async def test_bad_input(t: AuthTest) -> None:
    headers = await t.service_headers("admin")
    for params in (
        {"role": "superuser"},
        {"status": "banned"},
        {"limit": "0"},
        {"limit": "101"},
        {"email": ""},
    ):
        t.problem(await t.auth.get(PATH, headers=headers, params=params), 422, "invalid-input")
    for _ in range(3):
        await t.user(role="contractor")
    first = await t.auth.get(PATH, headers=headers, params={"role": "contractor", "limit": "1"})
    cursor = first.json()["nextCursor"]
    assert cursor
    # A cursor belongs to its list: not another role's, not a forged one.
    for params in (
        {"role": "client", "cursor": cursor},
        {"cursor": cursor},
        {"role": "contractor", "cursor": cursor[:-4] + "AAAA"},
    ):
        t.problem(await t.auth.get(PATH, headers=headers, params=params), 422, "invalid-cursor")
