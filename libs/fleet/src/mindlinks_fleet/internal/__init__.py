"""The internal API, declared once: every ``/internal`` route with its owner,
method, path, models and allowed callers. Owners mount them with
``mindlinks_kit.internal.serve``; callers call them with ``Peers.call``; the
app factory refuses to start when the two disagree, and each route lets
through only the services named here."""

from __future__ import annotations

from typing import Any

from mindlinks_fleet.internal import (
    auth,
    client,
    contract,
    contractor,
    kyc,
    ledger,
    notification,
    operations,
    payment,
    signature,
    user,
)
from mindlinks_kit.declaration import Route

ROUTES: tuple[Route[Any], ...] = (
    *auth.ROUTES,
    *operations.ROUTES,
    *user.ROUTES,
    *notification.ROUTES,
    *client.ROUTES,
    *contractor.ROUTES,
    *kyc.ROUTES,
    *contract.ROUTES,
    *signature.ROUTES,
    *ledger.ROUTES,
    *payment.ROUTES,
)
TOKEN_ROUTE = auth.SERVICE_TOKENS

__all__ = ["ROUTES", "TOKEN_ROUTE"]
