"""AddonManager: the addons applied to a cluster (and removed when they leave the list)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from azk_operator.api.meta import Resource
from azk_operator.api.rules import ApiModel, ListType, TransitionRule, immutable
from azk_operator.api.status import CommonStatus
from azk_operator.api.types import ClusterName, DnsLabel

AddonVersion = Annotated[str, Field(pattern=r"^v?[0-9A-Za-z][-0-9A-Za-z_.+]*$", max_length=64)]
MAX_ADDONS = 64


class Addon(ApiModel):
    """One addon from azk's catalog."""

    name: DnsLabel
    """The addon's name in azk's catalog, e.g. coredns or cloud-provider-azure."""
    enabled: bool = True
    """false removes the addon from the cluster but keeps its entry (and config) here."""
    version: AddonVersion | None = None
    """Defaults to the catalog's version for the cluster's Kubernetes version."""
    config: Annotated[
        dict[str, Any], Field(json_schema_extra={"x-kubernetes-preserve-unknown-fields": True})
    ] = Field(default_factory=dict)
    """Addon-specific settings, passed to the addon's templates as is."""


class AddonManagerSpec(ApiModel):
    """The addons a cluster runs; an addon that leaves the list is removed from the cluster."""

    cluster_name: ClusterName
    """The Cluster (same namespace) the addons are applied to."""
    addons: Annotated[list[Addon], Field(max_length=MAX_ADDONS), ListType("map", ("name",))] = Field(
        default_factory=list
    )

    transition_rules: ClassVar[tuple[TransitionRule, ...]] = (immutable("clusterName", "cluster_name"),)


AddonState = Literal["Pending", "Applied", "Failed", "Removing"]


class AddonStatus(ApiModel):
    """The state of one addon."""

    name: DnsLabel
    state: AddonState
    version: AddonVersion | None = None
    """The version applied."""
    message: Annotated[str, Field(max_length=1024)] | None = None
    """Why the addon failed, when it did."""


class AddonManagerStatus(CommonStatus):
    """Per-addon state."""

    addons: Annotated[list[AddonStatus], Field(max_length=MAX_ADDONS), ListType("map", ("name",))] = Field(
        default_factory=list
    )


class AddonManager(Resource):
    """The addons (CNI, CoreDNS, cloud provider, CSI, ...) applied to a Cluster."""

    plural: ClassVar[str] = "addonmanagers"

    kind: Literal["AddonManager"] = "AddonManager"
    spec: AddonManagerSpec
    status: AddonManagerStatus | None = None
