"""The admin API, ``/v1/admin/...``: only the role ``admin``, on every route
(each router requires it, whatever its routes declare)."""

from __future__ import annotations

from mindlinks_admin.api import business, operations, people

ROUTERS = (people.router, business.router, operations.router)

__all__ = ["ROUTERS"]
