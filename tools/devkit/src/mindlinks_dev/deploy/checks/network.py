"""Network ACLs: every subnet's ACL admits the platform's flows and their
replies, and nothing else from outside."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mindlinks_dev.deploy.checks.tree import Tree, expect, locals_of, named, resources_in
from mindlinks_kit.declaration import Fleet

ANYWHERE = "0.0.0.0/0"
PRIVATE = "${local.private_range}"
PUBLIC = "${local.public_range}"
VPC = "${var.cidr_block}"
EPHEMERAL = (1024, 65535)
"""Source ports of the NAT gateway, the ALB and the VPC link (AWS's NACL
guidance): the range replies come back on."""

Flow = tuple[str, str, int, int, str]
"""(peer CIDR, protocol, first port, last port, what it is)."""


def _nacl_flows(
    listener: int, services: tuple[int, int], redis: int
) -> tuple[dict[tuple[str, str], list[Flow]], dict[tuple[str, str], list[Flow]]]:
    """What each tier's ACL must let through, and what it must not."""
    low, high = EPHEMERAL
    required: dict[tuple[str, str], list[Flow]] = {
        ("public", "ingress"): [
            (PRIVATE, "tcp", 443, 443, "tasks' HTTPS to the NAT gateway"),
            (ANYWHERE, "tcp", low, high, "replies to the NAT gateway"),
            (ANYWHERE, "icmp", 0, 0, "path MTU discovery"),
        ],
        ("public", "egress"): [
            (ANYWHERE, "tcp", 443, 443, "the NAT gateway's HTTPS"),
            (PRIVATE, "tcp", low, high, "replies on to the tasks"),
        ],
        ("private", "ingress"): [
            (PRIVATE, "tcp", listener, listener, "VPC link to the ALB"),
            (PRIVATE, "tcp", *services, "ALB and peers to the services"),
            (PRIVATE, "tcp", redis, redis, "services to Redis"),
            (PRIVATE, "tcp", low, high, "replies inside the private subnets"),
            (ANYWHERE, "tcp", low, high, "replies to the tasks' HTTPS"),
            (ANYWHERE, "icmp", 0, 0, "path MTU discovery"),
        ],
        ("private", "egress"): [
            (ANYWHERE, "tcp", 443, 443, "HTTPS to AWS APIs and providers"),
            (PRIVATE, "tcp", listener, listener, "VPC link to the ALB"),
            (PRIVATE, "tcp", *services, "ALB and peers to the services"),
            (PRIVATE, "tcp", redis, redis, "services to Redis"),
            (PRIVATE, "tcp", low, high, "replies inside the private subnets"),
        ],
    }
    outside_in = [
        (ANYWHERE, "tcp", 0, low - 1, "well-known ports from anywhere"),
        (ANYWHERE, "udp", 0, 65535, "UDP from anywhere"),
    ]
    only_https_out = [
        (ANYWHERE, "tcp", 0, 442, "TCP out other than 443"),
        (ANYWHERE, "tcp", 444, 65535, "TCP out other than 443"),
        (ANYWHERE, "udp", 0, 65535, "UDP out"),
    ]
    forbidden: dict[tuple[str, str], list[Flow]] = {
        ("public", "ingress"): outside_in,
        ("public", "egress"): only_https_out,
        ("private", "ingress"): [
            *outside_in,
            (PUBLIC, "tcp", 0, low - 1, "well-known ports from the public subnets"),
        ],
        ("private", "egress"): only_https_out,
    }
    return required, forbidden


def _contains(cidr: str, peer: str) -> bool:
    if cidr in (peer, ANYWHERE):
        return True
    return cidr == VPC and peer in (PRIVATE, PUBLIC, VPC)


def _port(value: Any, values: Mapping[str, int]) -> int:
    if isinstance(value, int):
        return value
    if str(value) in values:
        return values[str(value)]
    raise ValueError(f"unresolvable port {value!r}")


def _allowed(rules: list[dict[str, Any]], peer: str, protocol: str, port: int) -> bool:
    """The first rule (by number) matching the flow decides; none: denied."""
    for rule in rules:
        rule_protocol = {"6": "tcp", "17": "udp", "1": "icmp", "all": "-1"}.get(
            str(rule["protocol"]), str(rule["protocol"])
        )
        if rule_protocol not in ("-1", protocol) or not _contains(rule["cidr_block"], peer):
            continue
        if protocol != "icmp" and rule_protocol != "-1" and not rule["from"] <= port <= rule["to"]:
            continue
        return bool(rule["action"] == "allow")
    return False


def _flow_ports(rules: list[dict[str, Any]], first: int, last: int) -> list[int]:
    """One port per stretch of [first, last] that every rule treats alike."""
    edges = {first}
    for rule in rules:
        for edge in (rule["from"], rule["to"] + 1):
            if first < edge <= last:
                edges.add(edge)
    return sorted(edges)


def network_acl_problems(root: Path, tree: Tree, fleet: Fleet) -> list[str]:
    """Every subnet belongs to a tier ACL that admits the tier's flows (and
    their replies: ACLs keep no state) and refuses the rest; the default ACL
    has no rules, so a subnet left without one passes nothing."""
    found: list[str] = []
    network = root / "modules" / "network"
    resources = resources_in(tree, network)
    acls = {name: body for (type_, name), body in resources.items() if type_ == "aws_network_acl"}
    for (type_, name), body in resources.items():
        if type_ != "aws_subnet":
            continue
        holders = [
            acl for acl, b in acls.items() if f"aws_subnet.{name}" in str(b.get("subnet_ids"))
        ]
        expect(found, holders == [name], f"network: subnets {name} are not in network ACL {name}")
        expect(
            found,
            f"local.{name}_range" in str(body.get("cidr_block")),
            f"network: subnets {name} are not carved from local.{name}_range",
        )
    default = resources.get(("aws_default_network_acl", "this"))
    expect(
        found,
        default is not None and not default.get("ingress") and not default.get("egress"),
        "network: the default network ACL is not managed empty (deny all)",
    )
    values = _nacl_port_values(root, tree)
    expect(
        found,
        "${var.load_balancer_port}" in values,
        "network: load_balancer_port is not the ALB listener's port",
    )
    services = (min(s.port for s in fleet.services), max(s.port for s in fleet.services))
    redis = resources_in(tree, root / "modules" / "data").get(
        ("aws_elasticache_replication_group", "this"), {}
    )
    required, forbidden = _nacl_flows(
        values.get("${var.load_balancer_port}", -1), services, int(redis.get("port", -1))
    )
    for (tier, direction), flows in required.items():
        if tier not in acls:
            found.append(f"network: no network ACL {tier}")
            continue
        try:
            rules = sorted(
                (
                    {
                        **rule,
                        "from": _port(rule.get("from_port"), values),
                        "to": _port(rule.get("to_port"), values),
                    }
                    for rule in acls[tier].get(direction, [])
                ),
                key=lambda rule: int(rule["rule_no"]),
            )
        except ValueError as exc:
            found.append(f"network: {tier} {direction}: {exc}")
            continue
        for peer, protocol, first, last, what in flows:
            if not all(_allowed(rules, peer, protocol, p) for p in _flow_ports(rules, first, last)):
                found.append(
                    f"network: {tier} {direction} refuses {what} ({protocol} {first}-{last})"
                )
        for peer, protocol, first, last, what in forbidden[(tier, direction)]:
            if any(_allowed(rules, peer, protocol, p) for p in _flow_ports(rules, first, last)):
                found.append(
                    f"network: {tier} {direction} admits {what} ({protocol} {first}-{last})"
                )
    return found


def _nacl_port_values(root: Path, tree: Tree) -> dict[str, int]:
    """The network module's port variables, as the platform sets them: the
    listener's port is the one the ALB listener uses."""
    platform = root / "platform"
    listener = resources_in(tree, platform).get(("aws_lb_listener", "http"), {})
    given = named(tree, "module", platform).get("network", {}).get("load_balancer_port")
    values: dict[str, int] = {}
    if given is not None and given == listener.get("port"):
        match = re.fullmatch(r"\$\{local\.(\w+)\}", str(given))
        port = locals_of(tree, platform).get(match.group(1)) if match else given
        if isinstance(port, int):
            values["${var.load_balancer_port}"] = port
    return values
