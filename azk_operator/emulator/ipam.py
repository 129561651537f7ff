"""Address allocation: loopback "public" IPs and private IPs from subnets.

Public addresses come from 127.10.0.0/16 so a process can really bind them (the boot simulator puts a
kube-apiserver behind a load balancer's frontend). Internal load-balancer frontends get a loopback alias
from 127.11.0.0/16 for the same reason. Private NIC addresses come from their subnet and are only recorded.
"""

from __future__ import annotations

import ipaddress
from typing import Any

PUBLIC_POOL = "127.10.0.0/16"
LOOPBACK_ALIAS_POOL = "127.11.0.0/16"
_SUBNET_RESERVED = 4  # Azure keeps the first four addresses of every subnet (and the last one)


class AddressPools:
    """Used addresses per pool (a subnet id, or a loopback pool name); serializable for persistence."""

    def __init__(self) -> None:
        self._used: dict[str, set[str]] = {}

    def allocate(self, pool: str, cidr: str) -> str:
        """The lowest free address of ``cidr``; ``pool`` names the owner (a subnet id, "public")."""
        net = ipaddress.ip_network(cidr, strict=False)
        used = self._used.setdefault(pool, set())
        first = 1 if cidr.startswith("127.") else _SUBNET_RESERVED
        for offset in range(first, net.num_addresses - 1):
            candidate = str(net.network_address + offset)
            if candidate not in used:
                used.add(candidate)
                return candidate
        raise LookupError(f"address pool {pool} ({cidr}) is exhausted")

    def claim(self, pool: str, address: str) -> bool:
        """Take a specific address; False when someone already holds it."""
        used = self._used.setdefault(pool, set())
        if address in used:
            return False
        used.add(address)
        return True

    def release(self, pool: str, address: str) -> None:
        self._used.get(pool, set()).discard(address)

    def snapshot(self) -> dict[str, set[str]]:
        return {pool: set(addresses) for pool, addresses in self._used.items()}

    def restore(self, snapshot: dict[str, set[str]]) -> None:
        """Undo allocations of a request that was then rejected."""
        self._used = snapshot

    def to_json(self) -> dict[str, Any]:
        return {pool: sorted(addresses) for pool, addresses in self._used.items()}

    def load_json(self, data: dict[str, Any]) -> None:
        self._used = {pool: set(addresses) for pool, addresses in data.items()}

    def clear(self) -> None:
        self._used.clear()
