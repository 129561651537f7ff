"""Cluster spec -> what the Azure layer builds: the base-infrastructure spec and the ids it yields (pure)."""

from __future__ import annotations

from azk_operator.api.cluster import ClusterSpec
from azk_operator.azure import naming
from azk_operator.azure.infra import BaseInfraSpec
from azk_operator.azure.naming import ClusterNames, resource_id


def base_infra_spec(cluster: str, spec: ClusterSpec) -> BaseInfraSpec:
    """The Azure layer's input for the Cluster named `cluster`."""
    return BaseInfraSpec(
        cluster=cluster,
        subscription_id=spec.azure.subscription_id,
        resource_group=spec.azure.resource_group,
        location=spec.azure.location,
        vnet_cidr=spec.network.vnet_cidr,
        control_plane_subnet_cidr=spec.network.control_plane_subnet_cidr,
        node_subnet_cidr=spec.network.node_subnet_cidr,
        apiserver_allowed_cidrs=tuple(spec.network.api_server_allowed_cidrs),
        dns_prefix=spec.dns_prefix,
        tags=dict(spec.azure.tags),
    )


def subnet_id(cluster: str, spec: ClusterSpec, subnet: str) -> str:
    return resource_id(
        spec.azure.subscription_id,
        spec.azure.resource_group,
        "Microsoft.Network/virtualNetworks",
        ClusterNames(cluster).virtual_network,
        ("subnets", subnet),
    )


def control_plane_backend_pool_id(cluster: str, spec: ClusterSpec) -> str:
    return resource_id(
        spec.azure.subscription_id,
        spec.azure.resource_group,
        "Microsoft.Network/loadBalancers",
        ClusterNames(cluster).apiserver_load_balancer,
        ("backendAddressPools", naming.CONTROL_PLANE_BACKEND_POOL),
    )
