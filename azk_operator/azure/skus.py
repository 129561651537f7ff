"""Cache of the VM sizes a subscription can use per location (resource SKUs change rarely; the list is big).

One list call per location per ``ttl`` (24 h): validating a NodeSet's VM size or zones must not cost an
ARM read each reconcile. Concurrent callers share the one in-flight list call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from azure.mgmt.compute.models import ResourceSku

from azk_operator.azure.clients import SubscriptionClients
from azk_operator.azure.services.base import lowered

SKU_TTL_S = 24 * 3600.0


@dataclass(frozen=True)
class VmSku:
    name: str
    zones: tuple[str, ...]
    capabilities: Mapping[str, str] = field(default_factory=dict)
    restricted: bool = False  # "NotAvailableForSubscription" in this location

    def capability(self, name: str) -> str | None:
        return self.capabilities.get(name)


def _vm_sku(sku: ResourceSku, location: str) -> VmSku | None:
    if lowered(sku.resource_type) != "virtualmachines" or not sku.name:
        return None
    zones: set[str] = set()
    for info in sku.location_info or []:
        if lowered(info.location) == location.lower():
            zones.update(info.zones or [])
    restricted = any(
        lowered(restriction.type) == "location"
        and location.lower() in {value.lower() for value in (restriction.values_property or [])}
        for restriction in sku.restrictions or []
    )
    capabilities = {str(cap.name): str(cap.value) for cap in sku.capabilities or [] if cap.name}
    return VmSku(sku.name, tuple(sorted(zones)), capabilities, restricted)


class ResourceSkuCache:
    def __init__(
        self,
        clients: SubscriptionClients,
        *,
        ttl: float = SKU_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clients = clients
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, dict[str, VmSku]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def vm_sizes(self, location: str) -> Mapping[str, VmSku]:
        """VM sizes by lower-case name for ``location`` (raises the SDK's errors; nothing cached then)."""
        key = location.replace(" ", "").lower()
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._entries.get(key)
            if cached is not None and self._clock() - cached[0] < self._ttl:
                return cached[1]
            listing = self._clients.compute.resource_skus.list(filter=f"location eq '{key}'")
            sizes: dict[str, VmSku] = {}
            async for sku in listing:
                vm = _vm_sku(sku, key)
                if vm is not None:
                    sizes[vm.name.lower()] = vm
            self._entries[key] = (self._clock(), sizes)
            return sizes

    async def vm_size(self, location: str, name: str) -> VmSku | None:
        return (await self.vm_sizes(location)).get(name.lower())
