"""NodePool: worker nodes that roll over to a new NodeSet whenever the template changes."""

from __future__ import annotations

from typing import Annotated, ClassVar, Final, Literal

from pydantic import Field, NonNegativeInt

from azk_operator.api.meta import Resource
from azk_operator.api.nodeset import Replicas, Selector
from azk_operator.api.nodetemplate import NodeTemplate
from azk_operator.api.rules import ApiModel, ListType, Rule, TransitionRule, immutable
from azk_operator.api.status import CommonStatus
from azk_operator.api.types import ClusterName, Duration, IntOrPercent, is_zero, object_default

DEFAULT_MAX_SURGE: Final[IntOrPercent] = "10%"
"""AKS surges 10% of a pool (rounded up: at least one node), GKE one node; both keep maxUnavailable at 0.
"10%" surges small pools one node at a time, does not make big pools crawl, and gives up no capacity."""
DEFAULT_MAX_UNAVAILABLE: Final[IntOrPercent] = 0


class RolloutStrategy(ApiModel):
    """How nodes roll over to a new template: surge new VMs, then cordon, drain and delete old ones."""

    max_surge: IntOrPercent = DEFAULT_MAX_SURGE
    """Nodes above replicas during a rollout: a count or a percentage of replicas (rounded up)."""
    max_unavailable: IntOrPercent = DEFAULT_MAX_UNAVAILABLE
    """Nodes below replicas during a rollout: a count or a percentage of replicas (rounded down)."""
    drain_timeout: Duration = "10m"
    """Give up draining a node after this long and report what blocks it (e.g. a PodDisruptionBudget)."""
    node_startup_timeout: Duration = "20m"
    """A new VM whose Node is not Ready after this long stalls the rollout (reason NodeStartupTimeout)."""

    rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            cel="!(string(self.maxSurge) in ['0', '0%'] && string(self.maxUnavailable) in ['0', '0%'])",
            message="maxSurge and maxUnavailable must not both be zero: the rollout could never progress",
            check=lambda s: not (is_zero(s.max_surge) and is_zero(s.max_unavailable)),
            field="maxSurge",
        ),
    )


class NodePoolSpec(ApiModel):
    """The desired worker nodes and how to roll them over."""

    cluster_name: ClusterName
    """The Cluster (same namespace) the nodes join."""
    replicas: Replicas = 1
    template: NodeTemplate
    """Changing it rolls every node over to a new NodeSet."""
    strategy: RolloutStrategy = Field(
        default_factory=RolloutStrategy, json_schema_extra=object_default(RolloutStrategy)
    )

    transition_rules: ClassVar[tuple[TransitionRule, ...]] = (immutable("clusterName", "cluster_name"),)


class NodePoolNodeSet(ApiModel):
    """One NodeSet the pool owns."""

    name: Annotated[str, Field(min_length=1, max_length=253)]
    replicas: NonNegativeInt = 0
    ready_replicas: NonNegativeInt = 0


class NodePoolStatus(CommonStatus):
    """The pool as last observed, summed over its NodeSets."""

    replicas: NonNegativeInt | None = None
    """Nodes over all of the pool's NodeSets."""
    ready_replicas: NonNegativeInt | None = None
    updated_replicas: NonNegativeInt | None = None
    """Nodes from the current template."""
    selector: Selector | None = None
    current_node_set: Annotated[str, Field(max_length=253)] | None = None
    """The NodeSet of the current template."""
    node_sets: Annotated[list[NodePoolNodeSet], Field(max_length=16), ListType("map", ("name",))] = Field(
        default_factory=list
    )


class NodePool(Resource):
    """Worker nodes of one template, rolled over to a new NodeSet when the template changes."""

    plural: ClassVar[str] = "nodepools"

    kind: Literal["NodePool"] = "NodePool"
    spec: NodePoolSpec
    status: NodePoolStatus | None = None
