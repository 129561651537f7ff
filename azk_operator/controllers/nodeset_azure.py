"""The Azure side of a NodeSet, usable without kopf and without a Kubernetes API.

`azk create` calls `ensure_scale_set(..., first_control_plane=True)` to boot the first control-plane VM
before any apiserver exists; the operator calls the same function on every reconcile, so the scale set the
CLI created is exactly the one the operator then manages (its customData switches to the join document
through the customData-hash tag; see azure/services/scale_set.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from azk_operator.api.nodeset import NodeSet
from azk_operator.azure.clients import SubscriptionClients
from azk_operator.azure.naming import resource_id
from azk_operator.azure.results import StepResult, StepState
from azk_operator.azure.services.scale_set import ScaleSet
from azk_operator.bootstrap.cloudinit import BootstrapSecrets, render_node_custom_data
from azk_operator.controllers.context import ClusterContext
from azk_operator.planner import scaleset as plan

SCALE_SET_TYPE = "Microsoft.Compute/virtualMachineScaleSets"


@dataclass(frozen=True)
class ScaleSetRef:
    """Where a NodeSet's scale set is: enough to list and delete it once its Cluster is gone."""

    subscription_id: str
    resource_group: str
    name: str
    cluster: str

    @property
    def id(self) -> str:
        return resource_id(self.subscription_id, self.resource_group, SCALE_SET_TYPE, self.name)

    @classmethod
    def parse(cls, arm_id: str, cluster: str) -> ScaleSetRef | None:
        parts = arm_id.strip("/").split("/")
        if len(parts) != 8 or parts[0].lower() != "subscriptions" or parts[2].lower() != "resourcegroups":
            return None
        return cls(parts[1], parts[3], parts[7], cluster)


def scale_set_ref(ctx: ClusterContext, nodeset: NodeSet) -> ScaleSetRef:
    return ScaleSetRef(
        ctx.subscription_id, ctx.resource_group, plan.scale_set_name(nodeset.metadata.name or ""), ctx.name
    )


def placement(ctx: ClusterContext, nodeset: NodeSet) -> plan.Placement:
    """Control planes sit in their subnet behind the API load balancer; workers in the node subnet."""
    if nodeset.spec.role == "ControlPlane":
        return plan.Placement(ctx.location, ctx.control_plane_subnet_id, (ctx.control_plane_backend_pool_id,))
    return plan.Placement(ctx.location, ctx.node_subnet_id)


def custom_data(ctx: ClusterContext, nodeset: NodeSet, *, first_control_plane: bool) -> str:
    return render_node_custom_data(
        ctx.bootstrap_config(nodeset.spec.template.kubernetes_version),
        plan.node_bootstrap_config(nodeset, first_control_plane=first_control_plane),
        BootstrapSecrets(ctx.pki, ctx.token, ctx.token_expires),
    )


def scale_set_service(
    clients: SubscriptionClients,
    ctx: ClusterContext,
    nodeset: NodeSet,
    *,
    capacity: int,
    first_control_plane: bool = False,
) -> ScaleSet | StepResult:
    """The scale-set service for the NodeSet's desired model, or why there can be none."""
    image = plan.image_spec(nodeset)
    name = plan.scale_set_name(nodeset.metadata.name or "")
    if image is None:
        return StepResult(
            name,
            StepState.FAILED,
            "ImageUnsupported",
            "template.image.id is not supported yet; use marketplace",
        )
    spec = plan.desired_scale_set(
        nodeset,
        placement(ctx, nodeset),
        image=image,
        capacity=capacity,
        custom_data=custom_data(ctx, nodeset, first_control_plane=first_control_plane),
        ssh_public_key=plan.node_ssh_public_key(ctx.pki.ca.key_pem),
    )
    return ScaleSet(
        clients,
        cluster=ctx.name,
        resource_group=ctx.resource_group,
        spec=spec,
        tags=plan.scale_set_tags(ctx.tags, nodeset),
        step="ScaleSet",
    )


async def ensure_scale_set(
    clients: SubscriptionClients,
    ctx: ClusterContext,
    nodeset: NodeSet,
    first_control_plane: bool = False,
    token: str | None = None,
    *,
    capacity: int | None = None,
) -> StepResult:
    """One non-blocking pass creating or updating the NodeSet's scale set (Manual upgrade mode).

    `capacity` defaults to the NodeSet's replicas, or 1 for the first control plane (the other members
    join once it serves). The operator passes the capacity `planner.scaleset.plan_scale` chose, which
    never lets Azure remove VMs on its own.
    """
    if capacity is None:
        capacity = 1 if first_control_plane else nodeset.spec.replicas
    service = scale_set_service(
        clients, ctx, nodeset, capacity=capacity, first_control_plane=first_control_plane
    )
    if isinstance(service, StepResult):
        return service
    return await service.reconcile(token)
