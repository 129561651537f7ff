"""NodeSet: one set of identical Azure VMs (a VM scale set); only its replica count ever changes."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, NonNegativeInt

from azk_operator.api.meta import Resource
from azk_operator.api.nodetemplate import NodeTemplate
from azk_operator.api.rules import ApiModel, ListType, Rule, TransitionRule, immutable
from azk_operator.api.status import CommonStatus, PendingOperations
from azk_operator.api.types import MAX_REPLICAS, ClusterName

Replicas = Annotated[int, Field(ge=0, le=MAX_REPLICAS)]
Role = Literal["ControlPlane", "Worker"]
#: A label selector in its string form (`engine.azk.io/nodeset=workers-5d8f`), for the scale subresource.
Selector = Annotated[str, Field(max_length=1024)]


class NodeSetSpec(ApiModel):
    """The desired VM scale set: its template never changes, its replica count may."""

    cluster_name: ClusterName
    """The Cluster (same namespace) the VMs join."""
    role: Role = "Worker"
    replicas: Replicas = 1
    template: NodeTemplate
    """The VMs' template; immutable: a different template is a different NodeSet."""

    rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            cel="self.role != 'ControlPlane' || !has(self.template.spot) || !self.template.spot.enabled",
            message="template.spot cannot be enabled for a ControlPlane NodeSet: an eviction would cost "
            "an etcd member",
            check=lambda s: (
                s.role != "ControlPlane" or s.template.spot is None or not s.template.spot.enabled
            ),
            field="template.spot",
            reason="FieldValueForbidden",
        ),
    )
    transition_rules: ClassVar[tuple[TransitionRule, ...]] = (
        immutable("clusterName", "cluster_name"),
        immutable("role", "role"),
        immutable("template", "template"),
    )


InstanceState = Literal["Creating", "Joining", "Ready", "NotReady", "Draining", "Deleting", "Failed"]


class NodeSetInstance(ApiModel):
    """One VM of the scale set."""

    name: Annotated[str, Field(min_length=1, max_length=80)]
    """The VM's name in Azure."""
    node_name: Annotated[str, Field(max_length=253)] | None = None
    """The Node it registered as."""
    state: InstanceState


class NodeSetStatus(CommonStatus):
    """The scale set as last observed: bounded to one short entry per VM."""

    replicas: NonNegativeInt | None = None
    """VMs that exist."""
    ready_replicas: NonNegativeInt | None = None
    """VMs whose Node is Ready."""
    selector: Selector | None = None
    scale_set_name: Annotated[str, Field(max_length=64)] | None = None
    """The VM scale set in Azure."""
    instances: Annotated[
        list[NodeSetInstance], Field(max_length=MAX_REPLICAS), ListType("map", ("name",))
    ] = Field(default_factory=list)
    pending_operations: PendingOperations = Field(default_factory=list)
    """Azure operations in flight."""


class NodeSet(Resource):
    """A set of identical Azure VMs (a VM scale set) that join a Cluster as nodes."""

    plural: ClassVar[str] = "nodesets"

    kind: Literal["NodeSet"] = "NodeSet"
    spec: NodeSetSpec
    status: NodeSetStatus | None = None
