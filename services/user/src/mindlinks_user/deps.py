"""What the user service's routes and handlers depend on, built once per process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from mindlinks_kit.app import service_deps
from mindlinks_kit.runtime import Runtime
from mindlinks_user.service import Users
from mindlinks_user.store import UserStore


@dataclass
class UserDeps:
    runtime: Runtime
    users: Users


async def setup(runtime: Runtime) -> UserDeps:
    store = UserStore(runtime.table("profiles"), runtime.table("preferences"))
    return UserDeps(runtime=runtime, users=Users(store, runtime.publish))


Deps = Annotated[UserDeps, Depends(service_deps)]
