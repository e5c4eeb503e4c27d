"""moto in server mode, with DynamoDB item operations made atomic.

moto's server answers requests on threads, and its DynamoDB backend does not
lock: two concurrent ``TransactWriteItems`` can both pass the same condition
and both apply — something DynamoDB never does. Our concurrency tests (two
decisions racing, two deliveries of one event) rely on conditions being
atomic, so every item operation here runs under one process-wide lock. The
server stays threaded, so SQS long polls still do not block other calls.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

ITEM_OPERATIONS = (
    "batch_get_item",
    "batch_write_item",
    "delete_item",
    "get_item",
    "put_item",
    "query",
    "scan",
    "transact_get_items",
    "transact_write_items",
    "update_item",
)
_lock = threading.RLock()


def _serialized(operation: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(operation)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return operation(*args, **kwargs)

    return locked


def make_atomic() -> None:
    for name in ITEM_OPERATIONS:
        original = getattr(DynamoDBBackend, name)
        if not getattr(original, "__wrapped__", None):
            setattr(DynamoDBBackend, name, _serialized(original))


if __name__ == "__main__":
    make_atomic()
    main()
