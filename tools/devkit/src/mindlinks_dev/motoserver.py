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

What moto's own server costs was found by profiling the emulator under ten
lifecycles at once (docs/profiles.md). Its werkzeug server closes the
connection after every answer, so each AWS call from a service opened a TCP
connection (up to a fifth of a service's CPU) and a thread here, and wrote an
access-log line (15 % of the emulator's CPU, threads queueing on the log
handler's lock): waitress serves the same WSGI app from a pool of threads,
keeping connections alive and logging nothing per request. The dispatch of
each request to its service's app (9 %, under one global lock) depends, for
JSON-protocol calls, only on the signature's service and the ``X-Amz-Target``
prefix, so it is looked up once per pair. Two more costs grew with use: moto
copies every table a transaction touches, whole, to roll it back (8 % with a
few hundred items, and more as tables fill), where a copy of each item the
transaction names is enough; and EventBridge builds a JSONPath parser for
each path of each delivery, where one per path is.
"""

from __future__ import annotations

import argparse
import copy
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

import jsonpath_ng.ext
import jsonpath_ng.ext.parser
from moto.core.responses import ActionResult
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    create_backend_app,
)
from waitress import serve

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
THREADS = 64
"""Request threads: each SQS long poll holds one for up to 20 s (a fleet has
eleven queues), the rest answer everything else."""
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
    """Patch moto, once per process (see the module's docstring)."""
    if getattr(DynamoDBBackend, "_mindlinks_patched", False):
        return
    DynamoDBBackend.transact_write_items = _item_rollback(  # type: ignore[method-assign]
        DynamoDBBackend.transact_write_items
    )
    for name in ITEM_OPERATIONS:
        setattr(DynamoDBBackend, name, _serialized(getattr(DynamoDBBackend, name)))
    DynamoHandler.transact_write_items = _idempotent(  # type: ignore[method-assign,assignment]
        DynamoHandler.transact_write_items
    )
    # moto's EventBridge imports it at each delivery; a parsed path is immutable
    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parser.parse)  # type: ignore[attr-defined]
    DynamoDBBackend._mindlinks_patched = True  # type: ignore[attr-defined]


Snapshot = list[tuple[Table, DynamoType, DynamoType | None, Item | None]]


def _before(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Snapshot | None:
    """A copy of every item a transaction names, as it is now (``None`` where
    it is absent); ``None`` when an entry is malformed (moto then reports it)."""
    snapshot: Snapshot = []
    try:
        for entry in transact_items:
            op = next(iter(entry.values()))
            table = backend.tables[op["TableName"]]
            key = op.get("Key") or op["Item"]
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            current = table.get_item(hash_value, range_value)
            snapshot.append((table, hash_value, range_value, copy.deepcopy(current)))
    except (KeyError, TypeError, AttributeError, StopIteration):
        return None
    return snapshot


def _restore(snapshot: Snapshot) -> None:
    for table, hash_value, range_value, item in reversed(snapshot):
        if item is None:
            if table.get_item(hash_value, range_value) is not None:
                table.delete_item(hash_value, range_value)
        elif range_value is None:
            table.items[hash_value] = item  # type: ignore[assignment]
        else:
            table.items[hash_value][range_value] = item


def _item_rollback(transact: Callable[..., Any]) -> Callable[..., Any]:
    """``transact_write_items`` rolled back from copies of its items, not of
    its tables (moto deep-copies each table it touches before every call)."""

    @functools.wraps(transact)
    def rolled_back(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Any:
        with _lock:
            snapshot = _before(backend, transact_items)
            if snapshot is None:
                return transact(backend, transact_items)
            Table.__deepcopy__ = _itself  # type: ignore[attr-defined]
            try:
                return transact(backend, transact_items)
            except Exception:
                _restore(snapshot)
                raise
            finally:
                del Table.__deepcopy__  # type: ignore[attr-defined]

    return rolled_back


def _itself(table: Table, memo: dict[int, Any]) -> Table:
    return table


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


class Dispatcher(DomainDispatcherApplication):
    """moto's dispatcher, remembering the app of each JSON-protocol target."""

    def __init__(self) -> None:
        super().__init__(create_backend_app)
        self._by_target: dict[tuple[str, str], Any] = {}

    def get_application(self, environ: Environ) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if not target or not scope:
            return super().get_application(environ)
        key = (scope.group(1), target.partition(".")[0])
        app = self._by_target.get(key)
        if app is None:
            app = self._by_target[key] = super().get_application(environ)
        return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))  # moto builds queue URLs from it
    make_atomic()
    app = CallCounter(Dispatcher())
    serve(
        app,
        host=args.host,
        port=args.port,
        threads=THREADS,
        connection_limit=1000,
        channel_timeout=120,
        ident=None,
        _quiet=True,
    )


if __name__ == "__main__":
    main()
