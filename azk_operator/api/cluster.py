"""Cluster: the Azure base infrastructure (resource group, network, load balancer) and the control plane."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, NonNegativeInt

from azk_operator.api import cidr
from azk_operator.api.meta import ObjectMeta, Resource
from azk_operator.api.rules import ApiModel, FieldRule, ListType, Rule, TransitionRule, immutable
from azk_operator.api.status import CommonStatus, PendingOperations
from azk_operator.api.types import (
    ClusterName,
    DnsSubdomain,
    Guid,
    Ipv4Cidr,
    KubernetesVersion,
    OsDiskSizeGB,
    Timestamp,
    VmSize,
    Zones,
    object_default,
)

#: Azure's rule for resource group names (ASCII subset): 1-90 characters, not ending in a period.
RESOURCE_GROUP_PATTERN = r"^[-A-Za-z0-9_.()]{0,89}[-A-Za-z0-9_()]$"
#: The public IP's DNS label: <dnsPrefix>.<location>.cloudapp.azure.com.
DNS_PREFIX_PATTERN = r"^[a-z][a-z0-9-]{1,61}[a-z0-9]$"
RESERVED_TAG_PREFIX = "azk.io_"
MAX_TAG_KEY_LENGTH = 512


class SecretKeyRef(ApiModel):
    """A key of a Secret in the Cluster's namespace."""

    name: DnsSubdomain
    key: Annotated[str, Field(pattern=r"^[-._a-zA-Z0-9]+$", min_length=1, max_length=253)] = "clientSecret"


IdentityType = Literal["ServicePrincipal", "WorkloadIdentity", "ManagedIdentity"]


class AzureIdentity(ApiModel):
    """How the operator authenticates to Azure. Secrets stay in a Secret; only its name is here."""

    type: IdentityType
    """ServicePrincipal (client secret in secretRef), WorkloadIdentity (federated token of the operator's
    service account) or ManagedIdentity (of the control-plane VMs; clientId picks a user-assigned one)."""
    client_id: Guid | None = None
    """The application (client) ID; for ManagedIdentity, the user-assigned identity's client ID."""
    tenant_id: Guid | None = None
    """The Microsoft Entra tenant ID."""
    secret_ref: SecretKeyRef | None = None
    """The Secret holding the service principal's client secret."""

    rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            cel="self.type == 'ManagedIdentity' || has(self.clientId)",
            message="clientId is required when type is ServicePrincipal or WorkloadIdentity",
            check=lambda s: s.type == "ManagedIdentity" or s.client_id is not None,
            field="clientId",
            reason="FieldValueRequired",
        ),
        Rule(
            cel="self.type == 'ManagedIdentity' || has(self.tenantId)",
            message="tenantId is required when type is ServicePrincipal or WorkloadIdentity",
            check=lambda s: s.type == "ManagedIdentity" or s.tenant_id is not None,
            field="tenantId",
            reason="FieldValueRequired",
        ),
        Rule(
            cel="self.type != 'ServicePrincipal' || has(self.secretRef)",
            message="secretRef is required when type is ServicePrincipal",
            check=lambda s: s.type != "ServicePrincipal" or s.secret_ref is not None,
            field="secretRef",
            reason="FieldValueRequired",
        ),
        Rule(
            cel="self.type == 'ServicePrincipal' || !has(self.secretRef)",
            message="secretRef is only allowed when type is ServicePrincipal",
            check=lambda s: s.type == "ServicePrincipal" or s.secret_ref is None,
            field="secretRef",
            reason="FieldValueForbidden",
        ),
    )


def _tag_keys_valid(tags: dict[str, str]) -> bool:
    return all(len(key) <= MAX_TAG_KEY_LENGTH and not key.startswith(RESERVED_TAG_PREFIX) for key in tags)


Tags = Annotated[
    dict[str, Annotated[str, Field(max_length=256)]],
    # Azure allows 50 tags per resource; azk adds its own ownership tags.
    Field(max_length=45, json_schema_extra={"default": {}}),
    FieldRule(
        cel=f"self.all(k, k.size() <= {MAX_TAG_KEY_LENGTH} && !k.startsWith('{RESERVED_TAG_PREFIX}'))",
        message=f"tag keys must be at most {MAX_TAG_KEY_LENGTH} characters and must not start with "
        f"{RESERVED_TAG_PREFIX} (reserved for azk's ownership tags)",
        check=_tag_keys_valid,
    ),
]


class AzureSpec(ApiModel):
    """Where the cluster lives in Azure."""

    subscription_id: Guid
    resource_group: Annotated[str, Field(pattern=RESOURCE_GROUP_PATTERN, min_length=1, max_length=90)]
    """Created (and later deleted) by azk unless it exists already; an existing group is never deleted."""
    location: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]+$", min_length=2, max_length=40)]
    """Azure region name, e.g. westeurope."""
    identity: AzureIdentity
    tags: Tags = Field(default_factory=dict)
    """Extra tags on every Azure resource azk creates."""

    transition_rules: ClassVar[tuple[TransitionRule, ...]] = (
        immutable("subscriptionId", "subscription_id"),
        immutable("resourceGroup", "resource_group"),
        immutable("location", "location"),
    )


def _inside(outer: str, inner: str, outer_attr: str, inner_attr: str) -> Rule:
    return Rule(
        cel=f"!isCIDR(self.{outer}) || !isCIDR(self.{inner}) || "
        f"cidr(self.{outer}).containsCIDR(cidr(self.{inner}))",
        message=f"{inner} must be inside {outer}",
        check=lambda s: cidr.contains(getattr(s, outer_attr), getattr(s, inner_attr)),
        field=inner,
    )


def _disjoint(a: str, b: str, a_attr: str, b_attr: str) -> Rule:
    return Rule(
        cel=f"!isCIDR(self.{a}) || !isCIDR(self.{b}) || "
        f"!(cidr(self.{a}).containsCIDR(cidr(self.{b})) || cidr(self.{b}).containsCIDR(cidr(self.{a})))",
        message=f"{a} must not overlap {b}",
        check=lambda s: not cidr.overlaps(getattr(s, a_attr), getattr(s, b_attr)),
        field=a,
    )


#: kube-apiserver refuses an IPv4 service range larger than /12.
MIN_SERVICE_PREFIX = 12


class NetworkSpec(ApiModel):
    """Address ranges. Subnets are inside the virtual network; pods and services are routed outside it.

    The defaults do not overlap, so a Cluster without a network section works as is.
    """

    vnet_cidr: Ipv4Cidr = "10.0.0.0/16"
    """The virtual network's address space."""
    control_plane_subnet_cidr: Ipv4Cidr = "10.0.0.0/24"
    """The control-plane VMs' subnet, inside vnetCidr."""
    node_subnet_cidr: Ipv4Cidr = "10.0.16.0/20"
    """The worker VMs' subnet, inside vnetCidr."""
    pod_cidr: Ipv4Cidr = "10.244.0.0/16"
    """Pod addresses, outside vnetCidr (routed per node)."""
    service_cidr: Ipv4Cidr = "10.96.0.0/12"
    """Service cluster IPs, outside vnetCidr and podCidr; at most a /12."""
    api_server_allowed_cidrs: Annotated[
        list[Ipv4Cidr], Field(min_length=1, max_length=32), ListType("set")
    ] = Field(default_factory=lambda: ["0.0.0.0/0"], json_schema_extra={"default": ["0.0.0.0/0"]})
    """Source ranges allowed to reach the API server's public endpoint."""

    rules: ClassVar[tuple[Rule, ...]] = (
        _inside("vnetCidr", "controlPlaneSubnetCidr", "vnet_cidr", "control_plane_subnet_cidr"),
        _inside("vnetCidr", "nodeSubnetCidr", "vnet_cidr", "node_subnet_cidr"),
        _disjoint(
            "nodeSubnetCidr", "controlPlaneSubnetCidr", "node_subnet_cidr", "control_plane_subnet_cidr"
        ),
        _disjoint("podCidr", "vnetCidr", "pod_cidr", "vnet_cidr"),
        _disjoint("serviceCidr", "vnetCidr", "service_cidr", "vnet_cidr"),
        _disjoint("serviceCidr", "podCidr", "service_cidr", "pod_cidr"),
        Rule(
            cel=f"!isCIDR(self.serviceCidr) || cidr(self.serviceCidr).prefixLength() >= {MIN_SERVICE_PREFIX}",
            message=f"serviceCidr must be a /{MIN_SERVICE_PREFIX} or smaller range",
            check=lambda s: cidr.prefix_length(s.service_cidr) >= MIN_SERVICE_PREFIX,
            field="serviceCidr",
        ),
    )
    # Changing a range would need new VMs, subnets or a new cluster network; azk does not migrate them.
    transition_rules: ClassVar[tuple[TransitionRule, ...]] = (
        immutable("vnetCidr", "vnet_cidr"),
        immutable("controlPlaneSubnetCidr", "control_plane_subnet_cidr"),
        immutable("nodeSubnetCidr", "node_subnet_cidr"),
        immutable("podCidr", "pod_cidr"),
        immutable("serviceCidr", "service_cidr"),
    )


class ControlPlaneSpec(ApiModel):
    """The control-plane VMs (kube-apiserver, etcd, controllers)."""

    replicas: Annotated[int, Field(ge=1, le=5)] = 3
    """1, 3 or 5: etcd needs an odd member count to keep a quorum."""
    vm_size: VmSize = "Standard_D2s_v5"
    zones: Zones = Field(default_factory=list)
    """Availability zones to spread the VMs over; empty for a regional deployment."""
    os_disk_size_gb: OsDiskSizeGB = Field(default=128, alias="osDiskSizeGB")

    rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            cel="self.replicas % 2 == 1",
            message="replicas must be 1, 3 or 5 (an odd count keeps an etcd quorum)",
            check=lambda s: s.replicas % 2 == 1,
            field="replicas",
        ),
    )


class CertificatesSpec(ApiModel):
    """Certificate lifetimes: kubeadm leaf certificates last one year."""

    renew_before_days: Annotated[int, Field(ge=7, le=180)] = 30
    """Renew leaf certificates this many days before they expire."""


class ClusterSpec(ApiModel):
    """The desired cluster: where it lives in Azure, its network, control plane and version."""

    azure: AzureSpec
    kubernetes_version: KubernetesVersion
    """The control plane's Kubernetes version, with its leading v (v1.37.2)."""
    dns_prefix: Annotated[str, Field(pattern=DNS_PREFIX_PATTERN, max_length=63)] | None = None
    """DNS label of the API server's public IP (<dnsPrefix>.<location>.cloudapp.azure.com, also in the
    serving certificate); without it the endpoint is the public IP address alone."""
    network: NetworkSpec = Field(default_factory=NetworkSpec, json_schema_extra=object_default(NetworkSpec))
    control_plane: ControlPlaneSpec = Field(
        default_factory=ControlPlaneSpec, json_schema_extra=object_default(ControlPlaneSpec)
    )
    certificates: CertificatesSpec = Field(
        default_factory=CertificatesSpec, json_schema_extra=object_default(CertificatesSpec)
    )
    paused: bool = False
    """Stop reconciling (Azure and the control plane) until set back to false."""

    transition_rules: ClassVar[tuple[TransitionRule, ...]] = (
        TransitionRule(
            cel="has(self.dnsPrefix) == has(oldSelf.dnsPrefix) && "
            "(!has(self.dnsPrefix) || self.dnsPrefix == oldSelf.dnsPrefix)",
            message="dnsPrefix is immutable",
            check=lambda old, new: old.dns_prefix == new.dns_prefix,
            field="dnsPrefix",
        ),
    )


class ClusterStatus(CommonStatus):
    """What the operator last observed of the cluster."""

    endpoint: Annotated[str, Field(pattern=r"^https://", max_length=256)] | None = None
    """The API server URL clients use."""
    kubernetes_version: KubernetesVersion | None = None
    """The version every control-plane member runs."""
    control_plane_replicas: Annotated[NonNegativeInt, Field(le=16)] | None = None
    control_plane_ready_replicas: Annotated[NonNegativeInt, Field(le=16)] | None = None
    certificates_not_after: Timestamp | None = None
    """When the first control-plane leaf certificate expires."""
    pending_operations: PendingOperations = Field(default_factory=list)
    """Azure operations in flight."""


class ClusterMetadata(ObjectMeta):
    """Cluster metadata: the name is narrowed because Azure names are derived from it."""

    name: ClusterName | None = None
    """A DNS label of at most 40 characters: Azure resource names and tags are derived from it."""


class Cluster(Resource):
    """A Kubernetes cluster on Azure that manages itself."""

    plural: ClassVar[str] = "clusters"

    kind: Literal["Cluster"] = "Cluster"
    metadata: ClusterMetadata = Field(default_factory=ClusterMetadata)
    spec: ClusterSpec
    status: ClusterStatus | None = None
