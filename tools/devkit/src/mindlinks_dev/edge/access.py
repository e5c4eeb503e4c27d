"""The edge's access log: a line per answered request, as uvicorn's would be
(``INFO:     203.0.113.7:50000 - "GET /v1/users/me HTTP/1.1" 200 OK``).

The edge writes it itself (the runner starts it with ``--no-access-log``):
uvicorn's line goes through ``logging`` (a record, the caller's frame, a copy
for the formatter), which cost as much CPU as the whole proxy hop.
"""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import quote

from starlette.types import Scope

_PHRASES = {status.value: status.phrase for status in HTTPStatus}


def access_line(scope: Scope, status: int) -> str:
    client = scope.get("client")
    who = f"{client[0]}:{client[1]}" if client else "-"
    query: bytes = scope.get("query_string", b"")
    target = quote(scope["path"]) + ("?" + query.decode("ascii") if query else "")
    request = f"{scope['method']} {target} HTTP/{scope.get('http_version', '1.1')}"
    return f'INFO:     {who} - "{request}" {status} {_PHRASES.get(status, "")}\n'
