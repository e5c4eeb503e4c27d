"""What the client service's routes depend on, built once per process: the
registry adapter chosen, the domain objects, the peers' clients."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from mindlinks_client.clients import AuthUsers, Mailer
from mindlinks_client.providers import CompanyRegistry
from mindlinks_client.providers.fixtures import LocalRegistry
from mindlinks_client.providers.opencorporates import OpenCorporates
from mindlinks_client.service.companies import Companies
from mindlinks_client.service.invitations import Invitations
from mindlinks_client.service.member_invitations import MemberInvitations
from mindlinks_client.service.members import Backfill, MemberChanges, Members
from mindlinks_client.settings import Settings
from mindlinks_client.store.companies import CompanyStore
from mindlinks_client.store.invitations import InvitationStore
from mindlinks_client.store.member_invitations import MemberInvitationStore
from mindlinks_client.store.members import ChangeStore, MemberStore
from mindlinks_kit.app import service_deps
from mindlinks_kit.runtime import Runtime
from mindlinks_kit.tenancy import Membership, Source


@dataclass
class ClientDeps:
    runtime: Runtime
    settings: Settings
    companies: Companies
    invitations: Invitations
    members: Members
    member_invitations: MemberInvitations
    backfill: Backfill


def registry_for(settings: Settings, runtime: Runtime) -> CompanyRegistry:
    if settings.opencorporates_api_token is not None:
        return OpenCorporates(
            client=runtime.http,
            api_token=settings.opencorporates_api_token.get_secret_value(),
            base_url=settings.opencorporates_base_url,
            timeout=settings.opencorporates_timeout_seconds,
            fail_max=settings.breaker_fail_max,
            reset_timeout=settings.breaker_reset_seconds,
        )
    if not settings.local_mode:
        raise RuntimeError("no registry outside local mode: set MINDLINKS_OPENCORPORATES_API_TOKEN")
    return LocalRegistry()


def memberships_from(store: MemberStore) -> Source:
    """The client service is the tenancy's owner: it reads its own table."""

    async def source(user_id: str) -> list[Membership]:
        return [Membership(m.company_id, m.role.value) for m in await store.of_user(user_id)]

    return source


async def setup(runtime: Runtime) -> ClientDeps:
    settings = runtime.settings_as(Settings)
    names = AuthUsers(runtime.peers)
    members = MemberStore(runtime.table("members"))
    changes = ChangeStore(runtime.table("member-changes"))
    forget = runtime.members.forget if runtime.members is not None else None
    writes = MemberChanges(members, changes, runtime.publish, forget)
    if runtime.members is not None:
        runtime.members.source = memberships_from(members)
    companies = Companies(
        CompanyStore(runtime.table("companies")),
        registry_for(settings, runtime),
        runtime.publish,
        runtime.cursors,
        names,
        writes,
    )
    invitations = Invitations(
        InvitationStore(runtime.table("invitations")),
        companies,
        runtime.publish,
        runtime.cursors,
        mail=Mailer(runtime.peers),
        names=names,
        accept_url=settings.public_base_url.rstrip("/") + "/accept-invitation",
        ttl=settings.invitation_ttl_seconds,
        retention=settings.invitation_retention_seconds,
    )
    team = Members(members, changes, writes, companies, names, runtime.cursors)
    member_invitations = MemberInvitations(
        MemberInvitationStore(runtime.table("member-invitations")),
        team,
        writes,
        companies,
        runtime.cursors,
        mail=Mailer(runtime.peers),
        accept_url=settings.public_base_url.rstrip("/") + "/join-company",
        ttl=settings.invitation_ttl_seconds,
        retention=settings.invitation_retention_seconds,
    )
    return ClientDeps(
        runtime=runtime,
        settings=settings,
        companies=companies,
        invitations=invitations,
        members=team,
        member_invitations=member_invitations,
        backfill=Backfill(runtime.uow, companies, members, writes, runtime.cursors),
    )


Deps = Annotated[ClientDeps, Depends(service_deps)]
