"""IPv4 CIDR predicates behind the network rules; each mirrors a call of the Kubernetes CEL CIDR library.

The CEL side (`cidr(a).containsCIDR(b)`) compares address blocks, so these do too, with `ipaddress`.
"""

from __future__ import annotations

import ipaddress


def is_network_address(value: str) -> bool:
    """True when no bit after the prefix length is set (`10.0.0.0/16`, not `10.0.0.1/16`).

    Mirrors `cidr(value) == cidr(value).masked()`.
    """
    return ipaddress.ip_network(value, strict=False).network_address == ipaddress.ip_interface(value).ip


def contains(outer: str, inner: str) -> bool:
    """Every address of `inner` is inside `outer`; mirrors `cidr(outer).containsCIDR(inner)`."""
    outer_net = ipaddress.IPv4Network(outer, strict=False)
    inner_net = ipaddress.IPv4Network(inner, strict=False)
    return inner_net.subnet_of(outer_net)


def overlaps(a: str, b: str) -> bool:
    """The blocks share at least one address. CIDR blocks either nest or are disjoint, hence the CEL
    `cidr(a).containsCIDR(b) || cidr(b).containsCIDR(a)`."""
    return contains(a, b) or contains(b, a)


def prefix_length(value: str) -> int:
    """Mirrors `cidr(value).prefixLength()`."""
    return ipaddress.IPv4Network(value, strict=False).prefixlen
