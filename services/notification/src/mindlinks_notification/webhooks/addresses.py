"""Where a webhook may go: the URL rules at subscription, and the address
rule applied again at delivery to the very address connected to.

- ``https`` only; in local mode ``http`` too, but then only to a loopback
  address (a developer's receiver on 127.0.0.1).
- No user info, no fragment; a host, and if it is an IP literal it must be
  public. Host names are resolved at delivery (``transport.GuardedBackend``),
  where every address they resolve to must be public — checked on the
  connection actually made, so a DNS rebinding cannot reach a private one.
- Public means ``ipaddress``' ``is_global``: private, loopback, link-local,
  multicast, reserved, shared (CGNAT) and documentation ranges are refused;
  IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
  Local mode lets loopback through, nothing else.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from mindlinks_kit.errors import InvalidInput

MAX_URL_LENGTH = 2048
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class EndpointUrlRefused(InvalidInput):
    code = "webhook-url-refused"
    title = "This webhook URL is not allowed"


class AddressRefused(Exception):
    """A delivery's host resolved to an address webhooks may not reach."""


@dataclass(frozen=True)
class AddressPolicy:
    allow_loopback: bool = False
    """Local mode only: a developer's receiver on this machine."""

    def allows(self, address: IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address.is_multicast:  # is_global is True for some multicast ranges
            return False
        if address.is_global:
            return True
        return self.allow_loopback and address.is_loopback

    def check(self, host: str) -> IPAddress:
        """The address ``host`` (an IP literal) names, if allowed."""
        address = ipaddress.ip_address(host)
        if not self.allows(address):
            raise AddressRefused(f"{address} is not a public address")
        return address


def ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def check_url(url: str, policy: AddressPolicy) -> str:
    """``url`` if webhooks may be sent there, else ``EndpointUrlRefused`` saying why."""
    if len(url) > MAX_URL_LENGTH:
        raise EndpointUrlRefused(f"at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EndpointUrlRefused("not a valid URL") from exc
    host = (parts.hostname or "").lower()
    if not host:
        raise EndpointUrlRefused("the URL needs a host")
    if parts.username is not None or parts.password is not None:
        raise EndpointUrlRefused("no user name or password in the URL")
    if parts.fragment:
        raise EndpointUrlRefused("no fragment in the URL")
    if port == 0:
        raise EndpointUrlRefused("not a valid port")
    literal = ip_literal(host)
    loopback = (literal is not None and literal.is_loopback) or host in LOCAL_NAMES
    if parts.scheme == "http":
        if not (policy.allow_loopback and loopback):
            raise EndpointUrlRefused("only https URLs are allowed")
    elif parts.scheme != "https":
        raise EndpointUrlRefused("only https URLs are allowed")
    if host in LOCAL_NAMES and not policy.allow_loopback:
        raise EndpointUrlRefused("private, loopback and reserved addresses are not allowed")
    if literal is not None and not policy.allows(literal):
        raise EndpointUrlRefused("private, loopback and reserved addresses are not allowed")
    return url
