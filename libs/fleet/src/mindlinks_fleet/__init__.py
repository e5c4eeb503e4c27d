"""The Mind-Links fleet, declared once: services, ports, tables, buckets,
peers, event subscriptions and sizes. Compose, Terraform variables, IAM
resource lists and the local bootstrap derive from ``FLEET``."""

from mindlinks_fleet.events import CATALOG
from mindlinks_fleet.services import REVOCATIONS, SERVICES
from mindlinks_kit.declaration import Fleet

FLEET = Fleet(
    name="mindlinks",
    services=SERVICES,
    events=CATALOG,
    revocations=REVOCATIONS,
    step_up_roles=("admin",),
    operator="admin",
)

__all__ = ["FLEET"]
