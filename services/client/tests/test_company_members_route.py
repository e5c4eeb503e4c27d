"""``GET /internal/clients/companies/{id}/members``: whom a company-wide
notice goes to (notification tells owners and admins of a disabled webhook).
Only its declared caller gets in; an unknown company has no members."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from mindlinks_dev.harness import Running

if TYPE_CHECKING:
    from conftest import World

ROUTE = "/internal/clients/companies/{}/members"


async def test_a_company_s_members_with_their_roles(fleet: Running, world: World) -> None:
    owner = await world.company_owner()
    company_id = await world.company_id(owner)
    answer = await world.client.get(
        ROUTE.format(company_id), headers=fleet.service_bearer("notification")
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"items": [{"userId": owner.user_id, "role": "owner"}]}

    unknown = await world.client.get(
        ROUTE.format(uuid.uuid4().hex), headers=fleet.service_bearer("notification")
    )
    assert unknown.status_code == 200
    assert unknown.json() == {"items": []}


async def test_only_notification_may_ask(fleet: Running, world: World) -> None:
    owner = await world.company_owner()
    company_id = await world.company_id(owner)
    for caller in ("payment", "contract"):
        refused = await world.client.get(
            ROUTE.format(company_id), headers=fleet.service_bearer(caller)
        )
        world.problem(refused, 403)
    assert (await world.client.get(ROUTE.format(company_id))).status_code == 401
    assert (
        await world.client.get(ROUTE.format(company_id), headers=owner.headers)
    ).status_code in (401, 403)
    bad = await world.client.get(
        ROUTE.format("not an id!"), headers=fleet.service_bearer("notification")
    )
    assert bad.status_code == 422
