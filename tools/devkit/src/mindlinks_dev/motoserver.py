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
``sqs:ReceiveMessage``, ``s3:PUT``…) and by the resource it names (a table,
a queue, a bucket, the events it puts): ``GET /_mindlinks/calls`` answers the
counts as JSON, ``GET /_mindlinks/calls?by=resource`` the same split by
resource (``"dynamodb:Query mindlinks-local-contract-outbox": 3``), and
``DELETE`` resets them. That is how ``make load`` and ``make bench`` count
what an idle fleet, or one contract's lifecycle, costs in AWS requests —
cheaper than moto's own request recorder, which writes every body to a file.
"""

from __future__ import annotations

import argparse
import functools
import io
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


def _tail(value: str) -> str:
    return value.rstrip("/").rsplit("/", 1)[-1]


def resource_of(environ: Environ, payload: Any) -> str:
    """The resource one AWS request names: a DynamoDB table (the first of a
    transaction's, every one of a batch's), an SQS queue, the detail types an
    EventBridge ``PutEvents`` carries, a secret or key, else an S3 bucket (the
    path's first segment); ``""`` when it names none."""
    if isinstance(payload, dict):
        if payload.get("TableName"):
            return str(payload["TableName"])
        if payload.get("TransactItems"):
            first: dict[str, Any] = next(iter(payload["TransactItems"][0].values()), {})
            return str(first.get("TableName", ""))
        if isinstance(payload.get("RequestItems"), dict):
            return "+".join(sorted(payload["RequestItems"]))
        if payload.get("QueueUrl"):
            return _tail(str(payload["QueueUrl"]))
        entries = payload.get("Entries")
        if isinstance(entries, list):
            kinds = {str(e.get("DetailType", "")) for e in entries if isinstance(e, dict)}
            return "+".join(sorted(kinds - {""}))
        for field in ("SecretId", "KeyId", "Name"):
            if payload.get(field):
                return _tail(str(payload[field]))
        return ""
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if query.get("QueueUrl"):
        return _tail(query["QueueUrl"][0])
    if "Action" in query:
        return ""
    return str(environ.get("PATH_INFO", "")).lstrip("/").split("/", 1)[0]


def _json_payload(environ: Environ) -> Any:
    """The JSON body of a JSON-protocol request (DynamoDB, SQS, EventBridge…),
    put back for moto to read; ``None`` for any other request."""
    if not environ.get("HTTP_X_AMZ_TARGET"):
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


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
        self.counts: Counter[tuple[str, str]] = Counter()
        """(``service:Action``, resource) → calls."""
        self._lock = threading.Lock()
        trace = os.environ.get("MOTO_CALL_TRACE")
        self.log = open(trace, "a") if trace else None  # noqa: SIM115 - for the process's life
        """Every call with its time, when ``MOTO_CALL_TRACE`` names a file
        (to find which request or event made which calls)."""

    def answer(self, by_resource: bool) -> dict[str, int]:
        totals: Counter[str] = Counter()
        with self._lock:
            for (name, resource), n in self.counts.items():
                totals[f"{name} {resource}".strip() if by_resource else name] += n
        return dict(totals)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == COUNTS_PATH:
            if environ.get("REQUEST_METHOD") == "DELETE":
                with self._lock:
                    self.counts.clear()
            by = parse_qs(environ.get("QUERY_STRING", "")).get("by", [""])[0]
            body = json.dumps(self.answer(by_resource=by == "resource")).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        key = (call_name(environ), resource_of(environ, _json_payload(environ)))
        with self._lock:
            self.counts[key] += 1
            if self.log is not None:
                self.log.write(f"{time.time():.3f} {key[0]} {key[1]}\n")
                self.log.flush()
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
