"""Names of the Azure resources of a cluster: the one place that spells them."""

from __future__ import annotations

from dataclasses import dataclass

CONTROL_PLANE_SUBNET = "control-plane-subnet"
NODE_SUBNET = "node-subnet"
APISERVER_FRONTEND = "apiserver-frontend"
CONTROL_PLANE_BACKEND_POOL = "control-plane-backend-pool"
APISERVER_PROBE = "apiserver-probe"
APISERVER_RULE = "apiserver-rule"
APISERVER_NSG_RULE = "allow-apiserver"
APISERVER_PORT = 6443


@dataclass(frozen=True)
class ClusterNames:
    """Resource names derived from the cluster name (ARM names are case-insensitive, ≤ 80 chars)."""

    cluster: str

    @property
    def virtual_network(self) -> str:
        return f"{self.cluster}-vnet"

    @property
    def control_plane_nsg(self) -> str:
        return f"{self.cluster}-control-plane-nsg"

    @property
    def node_nsg(self) -> str:
        return f"{self.cluster}-node-nsg"

    @property
    def node_route_table(self) -> str:
        return f"{self.cluster}-node-routetable"

    @property
    def apiserver_public_ip(self) -> str:
        return f"{self.cluster}-apiserver-pip"

    @property
    def apiserver_load_balancer(self) -> str:
        return f"{self.cluster}-apiserver-lb"

    def node_scale_set(self, node_set: str) -> str:
        return f"{self.cluster}-{node_set}"


def resource_id(
    subscription: str, resource_group: str, provider_type: str, name: str, *children: tuple[str, str]
) -> str:
    """ARM id of ``provider_type`` (``Microsoft.Network/virtualNetworks``), plus (type, name) children."""
    rid = f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/{provider_type}/{name}"
    for child_type, child_name in children:
        rid += f"/{child_type}/{child_name}"
    return rid


def same_id(left: str | None, right: str | None) -> bool:
    """ARM ids compare case-insensitively (ARM answers with whatever casing it stored)."""
    return (left or "").lower() == (right or "").lower()
