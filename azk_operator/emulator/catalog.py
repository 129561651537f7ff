"""The static world the emulator serves: subscriptions, locations and the VM size catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_SUBSCRIPTION_ID = "00000000-0000-4000-8000-000000000001"
DEFAULT_TENANT_ID = "00000000-0000-4000-8000-0000000000aa"


@dataclass(frozen=True)
class Location:
    name: str
    display_name: str
    zones: tuple[str, ...]


@dataclass(frozen=True)
class VmSize:
    name: str
    family: str
    vcpus: int
    memory_gb: float


LOCATIONS: dict[str, Location] = {
    loc.name: loc
    for loc in (
        Location("eastus", "East US", ("1", "2", "3")),
        Location("westeurope", "West Europe", ("1", "2", "3")),
        Location("westus2", "West US 2", ("1", "2", "3")),
        Location("northcentralus", "North Central US", ()),
    )
}

VM_SIZES: dict[str, VmSize] = {
    size.name.lower(): size
    for size in (
        VmSize("Standard_B2s", "standardBSFamily", 2, 4),
        VmSize("Standard_D2s_v5", "standardDSv5Family", 2, 8),
        VmSize("Standard_D4s_v5", "standardDSv5Family", 4, 16),
        VmSize("Standard_D8s_v5", "standardDSv5Family", 8, 32),
        VmSize("Standard_E4s_v5", "standardESv5Family", 4, 32),
        VmSize("Standard_F4s_v2", "standardFSv2Family", 4, 8),
    )
}

# Sizes a location does not offer (real regions differ in their catalogues too).
_UNAVAILABLE: dict[str, frozenset[str]] = {"northcentralus": frozenset({"standard_e4s_v5"})}

REGIONAL_VCPU_LIMIT = 100
FAMILY_VCPU_LIMIT = 64


def normalize_location(value: str) -> str:
    """ARM accepts display names ("East US") and short names alike."""
    return value.replace(" ", "").lower()


def size_in(location: str, size: str) -> VmSize | None:
    found = VM_SIZES.get(size.lower())
    if found is None or size.lower() in _UNAVAILABLE.get(location, frozenset()):
        return None
    return found


def resource_skus(location_filter: str | None) -> list[dict[str, Any]]:
    """The ``Microsoft.Compute/skus`` listing in ARM's ResourceSku shape."""
    skus: list[dict[str, Any]] = []
    for loc in LOCATIONS.values():
        if location_filter and loc.name != location_filter:
            continue
        for size in VM_SIZES.values():
            if size_in(loc.name, size.name) is None:
                continue
            skus.append(
                {
                    "resourceType": "virtualMachines",
                    "name": size.name,
                    "tier": "Standard",
                    "size": size.name.removeprefix("Standard_"),
                    "family": size.family,
                    "locations": [loc.name],
                    "locationInfo": [{"location": loc.name, "zones": list(loc.zones)}],
                    "capabilities": [
                        {"name": "vCPUs", "value": str(size.vcpus)},
                        {"name": "MemoryGB", "value": f"{size.memory_gb:g}"},
                        {"name": "PremiumIO", "value": "True"},
                        {"name": "HyperVGenerations", "value": "V1,V2"},
                    ],
                    "restrictions": [],
                }
            )
    return skus


def location_body(subscription_id: str, loc: Location) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{subscription_id}/locations/{loc.name}",
        "name": loc.name,
        "displayName": loc.display_name,
        "regionalDisplayName": f"(US) {loc.display_name}",
        "type": "Region",
        "metadata": {"regionType": "Physical", "regionCategory": "Recommended"},
        "availabilityZoneMappings": [
            {"logicalZone": zone, "physicalZone": f"{loc.name}-az{zone}"} for zone in loc.zones
        ],
    }
