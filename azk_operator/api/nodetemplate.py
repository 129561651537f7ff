"""The VM template shared by NodeSet and NodePool: everything that needs new VMs when it changes."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from azk_operator.api.rules import ApiModel, ListType, Rule
from azk_operator.api.types import (
    KubernetesVersion,
    Labels,
    LabelValue,
    OsDiskSizeGB,
    QualifiedName,
    VmSize,
    Zones,
)

IMAGE_ID_PATTERN = r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Compute/.+$"
ImageField = Annotated[str, Field(pattern=r"^[A-Za-z0-9][-A-Za-z0-9_.]*$", min_length=1, max_length=128)]


class MarketplaceImage(ApiModel):
    """An Azure Marketplace image."""

    publisher: ImageField
    offer: ImageField
    sku: ImageField
    version: ImageField = "latest"


class NodeImage(ApiModel):
    """The OS image; without one azk picks its default image for the Kubernetes version."""

    id: Annotated[str, Field(pattern=IMAGE_ID_PATTERN, max_length=1024)] | None = None
    """ARM ID of a managed image or a compute gallery image version."""
    marketplace: MarketplaceImage | None = None

    rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            cel="has(self.id) != has(self.marketplace)",
            message="exactly one of id and marketplace must be set",
            check=lambda s: (s.id is None) != (s.marketplace is None),
        ),
    )


class Taint(ApiModel):
    """A node taint, registered by the kubelet when the node joins."""

    key: QualifiedName
    value: LabelValue | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


SPOT_MAX_PRICE_PATTERN = r"^(-1|[0-9]{1,5}(\.[0-9]{1,5})?)$"


class SpotOptions(ApiModel):
    """Azure Spot VMs: cheaper, evicted when Azure needs the capacity back."""

    enabled: bool = False
    max_price: Annotated[str, Field(pattern=SPOT_MAX_PRICE_PATTERN, max_length=11)] | None = None
    """Highest price in US dollars per hour, e.g. "0.05"; "-1" or unset pays up to the on-demand price."""

    rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            cel="self.enabled || !has(self.maxPrice)",
            message="maxPrice is only allowed when enabled is true",
            check=lambda s: s.enabled or s.max_price is None,
            field="maxPrice",
            reason="FieldValueForbidden",
        ),
    )


class NodeTemplate(ApiModel):
    """The VMs of a NodeSet; every field needs new VMs when it changes."""

    vm_size: VmSize = "Standard_D4s_v5"
    kubernetes_version: KubernetesVersion
    """The kubelet's Kubernetes version, with its leading v (v1.37.2)."""
    image: NodeImage | None = None
    zones: Zones = Field(default_factory=list)
    """Availability zones to spread the VMs over; empty for a regional scale set."""
    os_disk_size_gb: OsDiskSizeGB = Field(default=128, alias="osDiskSizeGB")
    spot: SpotOptions | None = None
    labels: Labels = Field(default_factory=dict)
    """Labels of the nodes."""
    taints: Annotated[
        list[Taint],
        Field(max_length=32, json_schema_extra={"default": []}),
        ListType("map", ("key", "effect")),
    ] = Field(default_factory=list)
    """Taints of the nodes."""
