"""The Mind-Links fleet, declared once: services, ports, tables, buckets,
peers, event subscriptions, the internal API and sizes. Compose, Terraform variables, IAM
resource lists and the local bootstrap derive from ``FLEET``."""

from mindlinks_fleet.events import CATALOG
from mindlinks_fleet.internal import ROUTES, TOKEN_ROUTE
from mindlinks_fleet.internal.client import MEMBERSHIPS
from mindlinks_fleet.internal.operations import OPERATOR
from mindlinks_fleet.services import REVOCATIONS, SERVICES
from mindlinks_fleet.teams import (
    ACCOUNT_ROLE,
    COMPANY_HEADER,
    MEMBER_CLAIM,
    PERMISSIONS,
    CompanyHeaderRequired,
    CompanyNotFound,
    CompanyRequired,
    CompanyRole,
    CompanyRoleNotAllowed,
)
from mindlinks_kit.declaration import Fleet, Tenancy

TENANCY = Tenancy(
    owner="client",
    lookup=MEMBERSHIPS,
    header=COMPANY_HEADER,
    account_role=ACCOUNT_ROLE,
    roles=tuple(r.value for r in CompanyRole),
    permissions={action: tuple(r.value for r in roles) for action, roles in PERMISSIONS.items()},
    claim=MEMBER_CLAIM,
    none=CompanyRequired,
    ambiguous=CompanyHeaderRequired,
    not_found=CompanyNotFound,
    refused=CompanyRoleNotAllowed,
)

FLEET = Fleet(
    name="mindlinks",
    services=SERVICES,
    events=CATALOG,
    revocations=REVOCATIONS,
    step_up_roles=("admin",),
    operator=OPERATOR,
    routes=ROUTES,
    token_route=TOKEN_ROUTE,
    tenancy=TENANCY,
)

__all__ = ["FLEET"]
