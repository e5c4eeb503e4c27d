"""Service-to-service routes: user lookup, introspection, suspension, key rotation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import jwt
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from mindlinks_auth.app import create
from mindlinks_auth.settings import Settings
from mindlinks_kit.auth import JwksKeys, TokenVerifier

if TYPE_CHECKING:
    from conftest import AuthTest


async def test_user_lookup(t: AuthTest) -> None:
    user = await t.user(role="contractor")
    headers = await t.service_headers("client")
    response = await t.auth.get(f"/internal/auth/users/{user['id']}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": user["id"],
        "email": user["email"],
        "name": "Ada Lovelace",
        "role": "contractor",
        "status": "active",
        "emailVerified": True,
    }
    t.problem(
        await t.auth.get("/internal/auth/users/" + "f" * 32, headers=headers), 404, "user-not-found"
    )
    # Email-claim items are not users, and their ids are not even valid user ids.
    claim = await t.auth.get(f"/internal/auth/users/email%23{user['email']}", headers=headers)
    t.problem(claim, 422, "invalid-input")
    t.problem(
        await t.auth.get("/internal/auth/users/" + "x" * 65, headers=headers), 422, "invalid-input"
    )


async def test_internal_routes_need_a_service_token(t: AuthTest) -> None:
    user = await t.user()
    tokens = await t.login(user)
    path = f"/internal/auth/users/{user['id']}"
    t.problem(await t.auth.get(path), 401, "unauthorized")
    # A user's access token is not a service token.
    t.problem(await t.auth.get(path, headers=t.bearer(tokens["accessToken"])), 401, "unauthorized")
    t.problem(
        await t.auth.post(
            "/internal/auth/introspect",
            headers=t.bearer(tokens["accessToken"]),
            json={"token": tokens["accessToken"]},
        ),
        401,
        "unauthorized",
    )
    # Nor is an admin user's: the admin role is not the admin service.
    admin = await t.login(await t.user(role="admin"))
    rotate = await t.auth.post("/internal/auth/keys/rotate", headers=t.bearer(admin["accessToken"]))
    t.problem(rotate, 401, "unauthorized")


async def test_introspection(t: AuthTest) -> None:
    user = await t.user(role="contractor")
    tokens = await t.login(user)
    headers = await t.service_headers("admin")
    claims = jwt.decode(tokens["accessToken"], options={"verify_signature": False})
    active = await t.auth.post(
        "/internal/auth/introspect", headers=headers, json={"token": tokens["accessToken"]}
    )
    assert active.status_code == 200, active.text
    assert active.json() == {
        "active": True,
        "sub": user["id"],
        "role": "contractor",
        "sid": claims["sid"],
        "exp": claims["exp"],
    }
    for token in ("nonsense", tokens["refreshToken"], await t.service_token("payment")):
        inactive = await t.auth.post(
            "/internal/auth/introspect", headers=headers, json={"token": token}
        )
        assert inactive.json() == {"active": False}
    # Ending the session ends the token, before it expires.
    await t.auth.post(
        "/v1/auth/logout",
        headers=t.bearer(tokens["accessToken"]),
        json={"refreshToken": tokens["refreshToken"]},
    )
    after = await t.auth.post(
        "/internal/auth/introspect", headers=headers, json={"token": tokens["accessToken"]}
    )
    assert after.json() == {"active": False}


async def test_suspension_is_for_admin_only_and_ends_sessions_at_once(t: AuthTest) -> None:
    user = await t.user()
    first, second = await t.login(user), await t.login(user)
    path = f"/internal/auth/users/{user['id']}/suspend"
    # Other services may not suspend; users may not call internal routes at all.
    t.problem(
        await t.auth.post(path, headers=await t.service_headers("contract"), json={"reason": "x"}),
        403,
        "forbidden",
    )
    t.problem(
        await t.auth.post(path, headers=t.bearer(first["accessToken"]), json={"reason": "x"}),
        401,
        "unauthorized",
    )
    t.problem(
        await t.auth.post(path, headers=await t.service_headers("admin"), json={}),
        422,
        "invalid-input",
    )

    admin = await t.service_headers("admin")
    response = await t.auth.post(path, headers=admin, json={"reason": "chargeback fraud"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "suspended"
    for tokens in (first, second):
        t.problem(
            await t.auth.post("/v1/auth/refresh", json={"refreshToken": tokens["refreshToken"]}),
            401,
            "invalid-refresh-token",
        )
        t.problem(
            await t.auth.get("/v1/auth/me", headers=t.bearer(tokens["accessToken"])),
            401,
            "unauthorized",
        )
        introspected = await t.auth.post(
            "/internal/auth/introspect", headers=admin, json={"token": tokens["accessToken"]}
        )
        assert introspected.json() == {"active": False}
    redis = t.fleet.runtime("auth").redis
    assert redis is not None
    for tokens in (first, second):
        family = tokens["refreshToken"].split(".")[0]
        assert not await redis.exists(f"{t.resources.prefix}auth:refresh:{{{family}}}")
    # Suspending again changes nothing and publishes nothing more.
    assert (await t.auth.post(path, headers=admin, json={"reason": "again"})).status_code == 200

    unsuspend = await t.auth.post(f"/internal/auth/users/{user['id']}/unsuspend", headers=admin)
    assert unsuspend.status_code == 200, unsuspend.text
    assert unsuspend.json()["status"] == "active"
    # Old sessions stay ended; signing in again works.
    t.problem(
        await t.auth.post("/v1/auth/refresh", json={"refreshToken": first["refreshToken"]}),
        401,
        "invalid-refresh-token",
    )
    await t.login(user)

    published = [
        (name, {k: v for k, v in data.items() if k != "_id"})
        for name, data in await t.published(user["id"])
    ]
    assert ("user.suspended", {"userId": user["id"], "reason": "chargeback fraud"}) in published
    assert ("user.unsuspended", {"userId": user["id"]}) in published
    assert [name for name, _ in published].count("user.suspended") == 1


async def test_unknown_users_cannot_be_suspended(t: AuthTest) -> None:
    admin = await t.service_headers("admin")
    t.problem(
        await t.auth.post(
            "/internal/auth/users/" + "0" * 32 + "/suspend", headers=admin, json={"reason": "x"}
        ),
        404,
        "user-not-found",
    )


async def test_key_rotation_keeps_old_tokens_valid_and_publishes_both_keys(t: AuthTest) -> None:
    user = await t.user()
    before = await t.login(user)
    old_kid = jwt.get_unverified_header(before["accessToken"])["kid"]
    t.problem(
        await t.auth.post("/internal/auth/keys/rotate", headers=await t.service_headers("user")),
        403,
        "forbidden",
    )
    t.problem(
        await t.auth.post("/internal/auth/keys/rotate", headers=t.bearer(before["accessToken"])),
        401,
        "unauthorized",
    )

    rotated = await t.auth.post(
        "/internal/auth/keys/rotate", headers=await t.service_headers("admin")
    )
    assert rotated.status_code == 200, rotated.text
    new_kid = rotated.json()["kid"]
    assert new_kid != old_kid
    assert {new_kid, old_kid} <= set(rotated.json()["published"])
    activates_at = datetime.fromisoformat(rotated.json()["activatesAt"])
    assert activates_at > datetime.now(UTC) + timedelta(seconds=30)

    # Published at once, so every verifier can know it before a token carries it …
    jwks = (await t.auth.get("/.well-known/jwks.json")).json()
    kids = [k["kid"] for k in jwks["keys"]]
    assert kids[0] == new_kid
    assert old_kid in kids
    assert all(
        k["kty"] == "RSA" and k["alg"] == "RS256" and k["use"] == "sig" for k in jwks["keys"]
    )
    assert not any("d" in k or "p" in k for k in jwks["keys"])  # public parts only
    # … while the old key goes on signing until the new one activates.
    staged = await t.login(user)
    assert jwt.get_unverified_header(staged["accessToken"])["kid"] == old_kid

    t.deps.keys.activation_seconds = 0  # the activation time has come
    after = await t.login(user)
    assert jwt.get_unverified_header(after["accessToken"])["kid"] == new_kid

    async def fetch() -> dict[str, Any]:
        document: dict[str, Any] = (await t.auth.get("/.well-known/jwks.json")).json()
        return document

    elsewhere = TokenVerifier(JwksKeys(fetch), t.settings.jwt_issuer, t.settings.jwt_audience)
    for tokens in (before, staged, after):
        me = await t.auth.get("/v1/auth/me", headers=t.bearer(tokens["accessToken"]))
        assert me.status_code == 200
        assert (await elsewhere.user(tokens["accessToken"])).user_id == user["id"]


async def test_another_auth_process_picks_up_a_rotation(t: AuthTest) -> None:
    t.deps.keys.activation_seconds = 0
    other_app = create(Settings(signing_keys_reload_seconds=0, signing_key_activation_seconds=0))
    async with (
        LifespanManager(other_app),
        AsyncClient(transport=ASGITransport(app=other_app), base_url="http://auth-2") as other,
    ):
        user = await t.user()
        rotated = await t.auth.post(
            "/internal/auth/keys/rotate", headers=await t.service_headers("admin")
        )
        new_kid = rotated.json()["kid"]
        # A token signed by the rotating process verifies at the other one …
        tokens = await t.login(user)
        assert jwt.get_unverified_header(tokens["accessToken"])["kid"] == new_kid
        me = await other.get("/v1/auth/me", headers=t.bearer(tokens["accessToken"]))
        assert me.status_code == 200, me.text
        # … which now publishes and signs with the new key too.
        jwks = (await other.get("/.well-known/jwks.json")).json()
        assert jwks["keys"][0]["kid"] == new_kid
        their = await other.post(
            "/v1/auth/login", json={"email": user["email"], "password": user["password"]}
        )
        assert jwt.get_unverified_header(their.json()["accessToken"])["kid"] == new_kid
