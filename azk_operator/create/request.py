"""What `azk create` was asked for, turned into the resources it installs, validated by the API models.

The API models are the one validator: a flag value is checked by the same rules the API server enforces on
`kubectl apply`, and each error is reported against the flag the value came from, before anything reaches
Azure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from azk_operator.api.cluster import Cluster
from azk_operator.api.meta import API_VERSION
from azk_operator.api.nodepool import NodePool
from azk_operator.api.rules import error_lines

DEFAULT_NAMESPACE = "azk-system"
DEFAULT_KUBERNETES_VERSION = "v1.37.2"
DEFAULT_LOCATION = "eastus"
DEFAULT_CONTROL_PLANE_SIZE = "Standard_D2s_v5"
DEFAULT_NODE_SIZE = "Standard_D2s_v5"
DEFAULT_OPERATOR_IMAGE = "azk-operator:0.1.0"
AZURE_CREDENTIALS_SECRET = "azure-credentials"  # noqa: S105 (a Secret's name, not a secret)
CLIENT_SECRET_KEY = "client-secret"  # noqa: S105

# Field path (as the API server spells it) -> the flag that sets it; the longest matching prefix wins.
CLUSTER_FLAGS: Mapping[str, str] = {
    "metadata.name": "NAME",
    "metadata.namespace": "--namespace",
    "spec.azure.subscriptionId": "--subscription",
    "spec.azure.resourceGroup": "--resource-group",
    "spec.azure.location": "--location",
    "spec.azure.tags": "--tag",
    "spec.azure.identity": "--identity",
    "spec.azure.identity.clientId": "--client-id",
    "spec.azure.identity.tenantId": "--tenant-id",
    "spec.kubernetesVersion": "--kubernetes-version",
    "spec.dnsPrefix": "--dns-prefix",
    "spec.network.vnetCidr": "--vnet-cidr",
    "spec.network.controlPlaneSubnetCidr": "--control-plane-subnet-cidr",
    "spec.network.nodeSubnetCidr": "--node-subnet-cidr",
    "spec.network.podCidr": "--pod-cidr",
    "spec.network.serviceCidr": "--service-cidr",
    "spec.network.apiServerAllowedCidrs": "--api-server-allowed-cidr",
    "spec.controlPlane.replicas": "--control-plane-count",
    "spec.controlPlane.vmSize": "--control-plane-size",
    "spec.controlPlane.zones": "--zone",
}
NODEPOOL_FLAGS: Mapping[str, str] = {
    "metadata.name": "NAME",
    "spec.clusterName": "NAME",
    "spec.replicas": "--node-count",
    "spec.template.vmSize": "--node-size",
    "spec.template.kubernetesVersion": "--kubernetes-version",
    "spec.template.zones": "--zone",
}


class InvalidInput(ValueError):
    """Flags that would make an invalid cluster; one line per problem, each naming its flag."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclass(frozen=True)
class CreateOptions:
    """Every value `azk create` takes (each one a flag)."""

    name: str
    subscription_id: str
    location: str = DEFAULT_LOCATION
    resource_group: str | None = None
    namespace: str = DEFAULT_NAMESPACE
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    dns_prefix: str | None = None
    control_plane_count: int = 1
    control_plane_size: str = DEFAULT_CONTROL_PLANE_SIZE
    node_count: int = 2
    node_size: str = DEFAULT_NODE_SIZE
    zones: tuple[str, ...] = ()
    vnet_cidr: str | None = None
    control_plane_subnet_cidr: str | None = None
    node_subnet_cidr: str | None = None
    pod_cidr: str | None = None
    service_cidr: str | None = None
    api_server_allowed_cidrs: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    identity: str = "ServicePrincipal"
    client_id: str | None = None
    tenant_id: str | None = None
    operator_image: str = DEFAULT_OPERATOR_IMAGE

    @property
    def group(self) -> str:
        return self.resource_group or f"{self.name}-rg"

    @property
    def pool_name(self) -> str:
        return f"{self.name}-workers"


def flag_for(path: str, flags: Mapping[str, str]) -> str | None:
    """The flag of the longest prefix of `path` (`spec.network.podCidr` -> `--pod-cidr`)."""
    best: str | None = None
    for prefix in flags:
        matches = path == prefix or path.startswith((f"{prefix}.", f"{prefix}["))
        if matches and (best is None or len(prefix) > len(best)):
            best = prefix
    return flags[best] if best is not None else None


def _flag_lines(error: ValidationError, flags: Mapping[str, str]) -> list[str]:
    lines = []
    for line in error_lines(error):
        path, sep, message = line.partition(": ")
        flag = flag_for(path, flags) if sep else None
        lines.append(f"{flag}: {message} ({path})" if flag else line)
    return lines


def _network(options: CreateOptions) -> dict[str, Any]:
    values = {
        "vnetCidr": options.vnet_cidr,
        "controlPlaneSubnetCidr": options.control_plane_subnet_cidr,
        "nodeSubnetCidr": options.node_subnet_cidr,
        "podCidr": options.pod_cidr,
        "serviceCidr": options.service_cidr,
        "apiServerAllowedCidrs": list(options.api_server_allowed_cidrs) or None,
    }
    return {key: value for key, value in values.items() if value is not None}


def _identity(options: CreateOptions) -> dict[str, Any]:
    identity: dict[str, Any] = {"type": options.identity}
    if options.client_id:
        identity["clientId"] = options.client_id
    if options.tenant_id:
        identity["tenantId"] = options.tenant_id
    if options.identity == "ServicePrincipal":
        identity["secretRef"] = {"name": AZURE_CREDENTIALS_SECRET, "key": CLIENT_SECRET_KEY}
    return identity


def cluster_manifest(options: CreateOptions) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "azure": {
            "subscriptionId": options.subscription_id,
            "resourceGroup": options.group,
            "location": options.location,
            "identity": _identity(options),
            "tags": dict(options.tags),
        },
        "kubernetesVersion": options.kubernetes_version,
        "network": _network(options),
        "controlPlane": {
            "replicas": options.control_plane_count,
            "vmSize": options.control_plane_size,
            "zones": list(options.zones),
        },
    }
    if options.dns_prefix:
        spec["dnsPrefix"] = options.dns_prefix
    return {
        "apiVersion": API_VERSION,
        "kind": "Cluster",
        "metadata": {"name": options.name, "namespace": options.namespace},
        "spec": spec,
    }


def nodepool_manifest(options: CreateOptions) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "NodePool",
        "metadata": {"name": options.pool_name, "namespace": options.namespace},
        "spec": {
            "clusterName": options.name,
            "replicas": options.node_count,
            "template": {
                "vmSize": options.node_size,
                "kubernetesVersion": options.kubernetes_version,
                "zones": list(options.zones),
            },
        },
    }


@dataclass(frozen=True)
class CreateRequest:
    """The validated resources of one create: what the operator is handed."""

    options: CreateOptions
    cluster: Cluster
    manifests: tuple[dict[str, Any], ...]
    """Cluster first, then the worker NodePool, as they are applied."""

    @property
    def name(self) -> str:
        return self.options.name

    @property
    def namespace(self) -> str:
        return self.options.namespace


def build_request(options: CreateOptions) -> CreateRequest:
    """Validate every flag through the API models; raises InvalidInput naming each bad flag."""
    lines: list[str] = []
    cluster_doc, pool_doc = cluster_manifest(options), nodepool_manifest(options)
    cluster: Cluster | None = None
    try:
        cluster = Cluster.model_validate(cluster_doc)
    except ValidationError as error:
        lines += _flag_lines(error, CLUSTER_FLAGS)
    try:
        NodePool.model_validate(pool_doc)
    except ValidationError as error:
        seen = {line.partition(" (")[0] for line in lines}
        lines += [line for line in _flag_lines(error, NODEPOOL_FLAGS) if line.partition(" (")[0] not in seen]
    if lines or cluster is None:
        raise InvalidInput(_unique(lines))
    return CreateRequest(options, cluster, (cluster_doc, pool_doc))


def _unique(lines: list[str]) -> list[str]:
    return list(dict.fromkeys(lines))
