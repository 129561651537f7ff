"""The resource types the emulator serves, by lowercase ARM type."""

from __future__ import annotations

from azk_operator.emulator.resources.base import EmbeddedChild, ResourceKind
from azk_operator.emulator.resources.compute import (
    AvailabilitySetKind,
    ScaleSetInstanceKind,
    ScaleSetKind,
    VirtualMachineKind,
)
from azk_operator.emulator.resources.network import (
    LoadBalancerKind,
    NetworkInterfaceKind,
    PublicIpKind,
    RouteTableKind,
    SecurityGroupKind,
    VirtualNetworkKind,
)

RESOURCE_GROUP_TYPE = "Microsoft.Resources/resourceGroups"


def build_registry() -> tuple[dict[str, ResourceKind], dict[str, EmbeddedChild]]:
    kinds: list[ResourceKind] = [
        VirtualNetworkKind(),
        SecurityGroupKind(),
        RouteTableKind(),
        PublicIpKind(),
        LoadBalancerKind(),
        NetworkInterfaceKind(),
        AvailabilitySetKind(),
        VirtualMachineKind(),
        ScaleSetKind(),
        ScaleSetInstanceKind(),
    ]
    by_type = {kind.key: kind for kind in kinds}

    def child(
        parent: str, collection: str, writable: bool, in_use: str = "InUseResourceCannotBeDeleted"
    ) -> EmbeddedChild:
        owner = by_type[parent.lower()]
        return EmbeddedChild(owner, collection, f"{owner.type_name}/{collection}", writable, in_use)

    children = [
        child("Microsoft.Network/virtualNetworks", "subnets", True, "InUseSubnetCannotBeDeleted"),
        child("Microsoft.Network/networkSecurityGroups", "securityRules", True),
        child("Microsoft.Network/routeTables", "routes", True),
        child("Microsoft.Network/loadBalancers", "frontendIPConfigurations", False),
        child(
            "Microsoft.Network/loadBalancers",
            "backendAddressPools",
            True,
            "InUseBackendAddressPoolCannotBeDeleted",
        ),
        child("Microsoft.Network/loadBalancers", "probes", False),
        child("Microsoft.Network/loadBalancers", "loadBalancingRules", False),
        child("Microsoft.Network/loadBalancers", "inboundNatRules", False),
        child("Microsoft.Network/loadBalancers", "outboundRules", False),
        child("Microsoft.Network/networkInterfaces", "ipConfigurations", False),
    ]
    return by_type, {item.key: item for item in children}
