"""The kit's operations routes, which every service mounts
(``mindlinks_kit.operations``): only the operator service calls them."""

from __future__ import annotations

from mindlinks_kit.declaration import EVERY_SERVICE, Call
from mindlinks_kit.operations import DeadLetters, Discard, Discarded, OpsStatus, Replay, Replayed

OPERATOR = "admin"

STATUS = Call(
    EVERY_SERVICE,
    "GET",
    "/internal/ops/status",
    OpsStatus,
    callers=(OPERATOR,),
    summary="Breakers, outbox backlog, queue depths.",
)
DEAD_LETTERS = Call(
    EVERY_SERVICE,
    "GET",
    "/internal/ops/dead-letters",
    DeadLetters,
    callers=(OPERATOR,),
    summary="The service's dead letters.",
)
REPLAY = Call(
    EVERY_SERVICE,
    "POST",
    "/internal/ops/dead-letters/replay",
    Replayed,
    callers=(OPERATOR,),
    body=Replay,
    summary="Move dead letters back to the service's queue.",
)
DISCARD = Call(
    EVERY_SERVICE,
    "POST",
    "/internal/ops/dead-letters/discard",
    Discarded,
    callers=(OPERATOR,),
    body=Discard,
    summary="Drop dead letters, with a reason.",
)

ROUTES = (STATUS, DEAD_LETTERS, REPLAY, DISCARD)
