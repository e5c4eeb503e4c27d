"""Events in and out of the kyc service.

Publishes ``kyc.verified`` and ``kyc.rejected`` (``KycDecided``: sessionId,
contractorId, userId, provider, reason) when a decision is applied, in the
decision's own transaction (see ``service.Kyc.decide``). Consumes nothing of
its own: the kit handles ``user.suspended`` (token revocation) for every service.
"""

from __future__ import annotations

from mindlinks_kit.events.consumer import Handler
from mindlinks_kyc.deps import KycDeps


def handlers(deps: KycDeps) -> dict[str, Handler]:
    return {}
