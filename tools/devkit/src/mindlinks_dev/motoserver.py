"""moto in server mode, with DynamoDB item operations made atomic and every
AWS call counted.

moto's server answers requests on threads, and its DynamoDB backend does not
lock: two concurrent ``TransactWriteItems`` can both pass the same condition
and both apply — something DynamoDB never does. Our concurrency tests (two
decisions racing, two deliveries of one event) rely on conditions being
atomic, so every item operation here runs under one process-wide lock. The
server stays threaded, so SQS long polls still do not block other calls.

Like DynamoDB, and unlike moto, a ``TransactWriteItems`` that carries a
``ClientRequestToken`` already committed (within 10 minutes) answers success
again instead of running twice: the SDK retries a call that timed out, and
on an overloaded emulator the first attempt may have committed — its retry
would then fail its own conditions (``attribute_not_exists``) and a
register answered 409.

Every call is counted by ``service:Action`` (``dynamodb:GetItem``,
``sqs:ReceiveMessage``, ``s3:PUT``…): ``GET /_mindlinks/calls`` answers the
counts as JSON and ``DELETE`` resets them. That is how the benchmarks count
what an idle fleet, or one contract's lifecycle, costs in AWS requests.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from moto.core.responses import ActionResult
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

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
COUNTS_PATH = "/_mindlinks/calls"
_lock = threading.RLock()
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]


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
    handler = DynamoHandler.transact_write_items
    if not getattr(handler, "__wrapped__", None):
        DynamoHandler.transact_write_items = _idempotent(handler)  # type: ignore[method-assign,assignment]


TOKEN_SECONDS = 600
"""How long DynamoDB remembers a transaction's ``ClientRequestToken``."""
_committed: dict[str, float] = {}


def _idempotent(transact: Callable[[DynamoHandler], Any]) -> Callable[[DynamoHandler], Any]:
    @functools.wraps(transact)
    def once(handler: DynamoHandler) -> Any:
        token = handler.body.get("ClientRequestToken")
        if not token:
            return transact(handler)
        with _lock:
            now = time.monotonic()
            for old in [t for t, at in _committed.items() if now - at > TOKEN_SECONDS]:
                del _committed[old]
            if token in _committed:
                return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
            result = transact(handler)
            _committed[token] = now
            return result

    return once


def call_name(environ: Environ) -> str:
    """``service:Action`` of one AWS request, from its signature's scope and
    its JSON target (DynamoDB, SQS), its query action, or its HTTP method (S3)."""
    scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = scope.group(1) if scope else "unsigned"
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return f"{service}:{target.rpartition('.')[2]}"
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if action:
        return f"{service}:{action[0]}"
    return f"{service}:{environ.get('REQUEST_METHOD', '?')}"


class CallCounter:
    """WSGI middleware: counts every call and answers ``COUNTS_PATH``."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == COUNTS_PATH:
            with self._lock:
                if environ.get("REQUEST_METHOD") == "DELETE":
                    self.counts.clear()
                body = json.dumps(dict(self.counts)).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        name = call_name(environ)
        with self._lock:
            self.counts[name] += 1
        return self.app(environ, start_response)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))  # moto builds queue URLs from it
    make_atomic()
    app = CallCounter(DomainDispatcherApplication(create_backend_app))
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
