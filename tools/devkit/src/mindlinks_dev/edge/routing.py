"""What the edge routes where, and which headers cross it.

Only ``/v1/<area>/...`` of a started service and its exact extra public paths
are routable: ``/internal/...`` and ``/health/...`` of the services never are.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mindlinks_kit.declaration import Fleet, Service
from mindlinks_kit.middleware import CORRELATION_HEADER

RawHeaders = list[tuple[bytes, bytes]]

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
    }
)
_CORRELATION = CORRELATION_HEADER.encode()
_SET_BY_EDGE = frozenset(
    {
        b"host",
        b"content-length",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        _CORRELATION,
        # Only services put a user token beside a service token; one coming
        # from the internet is dropped (services would not trust it anyway).
        b"x-user-authorization",
    }
)

_SET_BY_SERVER = frozenset({b"date", b"server"})


@dataclass(frozen=True)
class Upstream:
    service: Service
    url: str
    """Base URL of the service's process, e.g. ``http://127.0.0.1:3001``."""


@dataclass(frozen=True)
class Routes:
    areas: Mapping[str, Upstream]
    paths: Mapping[str, Upstream]
    """Exact extra public paths (``/.well-known/jwks.json``)."""

    def resolve(self, path: str) -> Upstream | None:
        """The upstream of a public path; None for anything not public."""
        segments = path.split("/")
        if "." in segments or ".." in segments:
            return None
        exact = self.paths.get(path)
        if exact is not None:
            return exact
        if len(segments) < 3 or segments[0] or segments[1] != "v1":
            return None
        return self.areas.get(segments[2])

    @property
    def upstreams(self) -> list[Upstream]:
        unique = {u.service.name: u for u in (*self.areas.values(), *self.paths.values())}
        return [unique[name] for name in sorted(unique)]


def routes_for(
    fleet: Fleet, services: Iterable[str], template: str, port_offset: int = 0
) -> Routes:
    """The route table of the given services of ``fleet`` (the started ones);
    ``template`` is the discovery template (``http://127.0.0.1:{port}``)."""
    areas: dict[str, Upstream] = {}
    paths: dict[str, Upstream] = {}
    for name in services:
        spec = fleet.service(name)
        upstream = Upstream(spec, template.format(name=spec.name, port=spec.port + port_offset))
        areas[spec.area] = upstream
        for path in spec.extra_public_paths:
            paths[path] = upstream
    return Routes(areas=areas, paths=paths)


def correlation_id(value: str | None) -> str:
    """The caller's correlation id when it is sane, else a new one."""
    if value and len(value) <= 128 and value.isprintable():
        return value
    return uuid.uuid4().hex


def _connection_tokens(raw: Iterable[tuple[bytes, bytes]]) -> set[bytes]:
    """Headers the ``Connection`` header names hop-by-hop for this message."""
    return {
        token.strip().lower()
        for name, value in raw
        if name.lower() == b"connection"
        for token in value.split(b",")
    }


def forward_headers(
    raw: Iterable[tuple[bytes, bytes]], *, client: str, scheme: str, correlation: str
) -> RawHeaders:
    """The request headers an upstream sees: hop-by-hop ones dropped, the
    client appended to ``x-forwarded-for``, the correlation id set."""
    raw = list(raw)
    skip = _connection_tokens(raw)
    headers: RawHeaders = []
    forwarded_for: list[bytes] = []
    host = b""
    for name, value in raw:
        key = name.lower()
        if key == b"x-forwarded-for":
            forwarded_for.append(value)
        elif key == b"host":
            host = value
        elif key not in HOP_BY_HOP and key not in _SET_BY_EDGE and key not in skip:
            # A field value has no surrounding white space (RFC 9110 5.5); the
            # client library refuses to send one that does (``Bearer ``), which
            # answered a client's malformed header with a 502.
            headers.append((key, value.strip(b" \t")))
    forwarded_for.append(client.encode("latin-1"))
    headers += [
        (b"x-forwarded-for", b", ".join(forwarded_for)),
        (b"x-forwarded-proto", scheme.encode("latin-1")),
        (_CORRELATION, correlation.encode("latin-1")),
    ]
    if host:
        headers.append((b"x-forwarded-host", host))
    return headers


def response_headers(
    raw: Iterable[tuple[bytes, bytes]], *, length: int | None, correlation: str
) -> RawHeaders:
    """An upstream's response headers for the client: hop-by-hop ones dropped
    and those the edge sets itself (CORS, and ``date``/``server`` from its
    own server), the length of the bytes sent set."""
    raw = list(raw)
    skip = _connection_tokens(raw)
    headers: RawHeaders = []
    for name, value in raw:
        key = name.lower()
        if key in HOP_BY_HOP or key in skip or key in _SET_BY_SERVER:
            continue
        if key.startswith(b"access-control-"):
            continue
        if key == b"content-length" and length is not None:
            continue
        headers.append((key, value))
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    if not any(name == _CORRELATION for name, _ in headers):
        headers.append((_CORRELATION, correlation.encode("latin-1")))
    return headers
