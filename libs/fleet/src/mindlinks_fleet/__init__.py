"""The Mind-Links fleet, declared once: services, ports, tables, buckets,
peers, event subscriptions, the internal API and sizes. Compose, Terraform variables, IAM
resource lists and the local bootstrap derive from ``FLEET``."""

from mindlinks_fleet.events import CATALOG
from mindlinks_fleet.internal import ROUTES, TOKEN_ROUTE
from mindlinks_fleet.internal.operations import OPERATOR
from mindlinks_fleet.services import REVOCATIONS, SERVICES
from mindlinks_kit.declaration import Fleet

FLEET = Fleet(
    name="mindlinks",
    services=SERVICES,
    events=CATALOG,
    revocations=REVOCATIONS,
    step_up_roles=("admin",),
    operator=OPERATOR,
    routes=ROUTES,
    token_route=TOKEN_ROUTE,
)

__all__ = ["FLEET"]
