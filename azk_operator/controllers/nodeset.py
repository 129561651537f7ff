"""NodeSet controller: one VM scale set, scaled by capacity writes up and by drained deletions down.

Each pass is level-based and non-blocking (one step of every Azure operation and of every drain), so an
operator restart at any point continues where the cluster and Azure say things are:
- the victims of a scale-down are the instances whose Node carries the drain-start annotation (written
  with the cordon), and `planner.victims` keeps those first, so a restart drains the same nodes;
- the scale set's id is recorded in the annotation `engine.azk.io/scale-set-id` before it is created, so
  a NodeSet whose Cluster is gone can still delete it;
- continuation tokens of Azure operations are kept in status.pendingOperations as an accelerator only.

A converged NodeSet costs one scale-set GET, one instance list and one Node list per pass, and no write.

Deletion drains worker nodes (after a bounded time, pods a budget still protects are deleted: the NodeSet
is going away), then deletes the scale set. Control-plane nodes are not drained: their NodeSet goes only
when the whole Cluster goes. When the Cluster cannot be loaded, the NodeSet says so in its `Deleting`
condition, waits `orphan_grace_s` for it, then deletes the recorded scale set on its own.
"""

from __future__ import annotations

import datetime
from dataclasses import replace
from typing import Any

import kopf
import kubernetes

from azk_operator.api.conditions import READY
from azk_operator.api.meta import GROUP, VERSION
from azk_operator.api.nodeset import NodeSet, NodeSetInstance
from azk_operator.azure.errors import ErrorKind, classify
from azk_operator.azure.results import StepResult, StepState
from azk_operator.azure.services.base import AzureFailure, lowered
from azk_operator.azure.services.scale_set import ScaleSet, ScaleSetInstance, ScaleSetSpec
from azk_operator.controllers.context import ClusterContext, ClusterNotReady, load_cluster_context
from azk_operator.controllers.nodeset_azure import (
    ScaleSetRef,
    ensure_scale_set,
    scale_set_ref,
    scale_set_service,
)
from azk_operator.controllers.nodeset_status import (
    DELETING,
    DRAIN_BLOCKED,
    DRAINING,
    SCALE_SET_READY,
    SCALING_DOWN,
    SCALING_UP,
    Pass,
)
from azk_operator.controllers.state import OperatorState
from azk_operator.kube.cordon import DRAIN_STARTED_ANNOTATION, uncordon
from azk_operator.kube.drain import (
    Blocked,
    Drained,
    DrainPolicy,
    InProgress,
    OnDrainTimeout,
    TimedOut,
    drain_step,
)
from azk_operator.kube.nodes import nodes_by_provider_id
from azk_operator.kube.providerid import vmss_instance_provider_id
from azk_operator.planner import scaleset as plan

__all__ = ["delete", "ensure_scale_set", "reconcile", "register"]

SCALE_SET_ID_ANNOTATION = f"{GROUP}/scale-set-id"
# Keys of the continuation tokens kept in status.pendingOperations.
WRITE_OPERATION = "write/ScaleSet"
DELETE_INSTANCES_OPERATION = "delete/ScaleSetInstances"
DELETE_OPERATION = "delete/ScaleSet"
PLURAL = "nodesets"


def register(registry: kopf.OperatorRegistry, resync_s: float) -> None:
    @kopf.on.resume(GROUP, VERSION, PLURAL, registry=registry)
    @kopf.on.create(GROUP, VERSION, PLURAL, registry=registry)
    @kopf.on.update(GROUP, VERSION, PLURAL, registry=registry, field="spec")
    async def changed(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, **_: Any) -> None:
        await reconcile(memo.state, body, patch)

    # Node readiness and Azure drift are not events on the NodeSet: look again every resync period.
    @kopf.timer(GROUP, VERSION, PLURAL, registry=registry, interval=resync_s, initial_delay=resync_s)
    async def resync(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, **_: Any) -> None:
        await reconcile(memo.state, body, patch, raise_in_progress=False)

    @kopf.on.delete(GROUP, VERSION, PLURAL, registry=registry)
    async def deleted(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, **_: Any) -> None:
        await delete(memo.state, body, patch)


def _key(nodeset: NodeSet) -> str:
    return f"nodeset/{nodeset.metadata.namespace}/{nodeset.metadata.name}"


async def reconcile(
    state: OperatorState, body: kopf.Body, patch: kopf.Patch, raise_in_progress: bool = True
) -> None:
    """One pass; raises TemporaryError (with the shortest useful delay) until the NodeSet is Ready."""
    nodeset = NodeSet.model_validate(dict(body))
    work = Pass.of(nodeset)
    async with state.lock(_key(nodeset)):
        await _reconcile(state, body, work)
    work.write(patch)
    if raise_in_progress and work.retry_after is not None:
        raise kopf.TemporaryError(f"waiting for {'; '.join(work.waiting_for)}", delay=work.retry_after)


async def _reconcile(state: OperatorState, body: kopf.Body, work: Pass) -> None:
    nodeset = work.nodeset
    try:
        ctx = await load_cluster_context(
            state.kube, nodeset.metadata.namespace or "", nodeset.spec.cluster_name
        )
    except ClusterNotReady as error:
        work.condition(READY, "False", error.reason, f"Cluster {nodeset.spec.cluster_name}: {error.message}")
        work.wait(state.timings.context_missing_s, error.reason)
        return
    if ctx.spec.paused:
        work.condition(
            READY, "False", "Paused", f"Cluster {ctx.name} has spec.paused set: no changes are made"
        )
        return
    clients = state.azure.subscription(ctx.subscription_id)
    if not await _vm_size_usable(state, body, ctx, work):
        return
    await _record_scale_set_id(state, nodeset, scale_set_ref(ctx, nodeset))
    service = scale_set_service(clients, ctx, nodeset, capacity=nodeset.spec.replicas)
    if isinstance(service, StepResult):
        _report_failure(body, work, service)
        return
    instances = await _observe(state, ctx, service, work)
    if instances is None:
        return
    scale = plan.plan_scale(nodeset.spec.replicas, instances)
    service.spec = replace(service.spec, capacity=scale.capacity)
    result = await service.reconcile(work.token(WRITE_OPERATION))
    work.keep_token(WRITE_OPERATION, result.token)
    _report_scale_set(body, work, result, service.spec)
    if result.state is StepState.FAILED and result.reason == "ResourceNotOwned":
        return  # never drain or delete VMs of a scale set azk does not own
    await _release(state, body, scale.release)
    deletable = await _drain_victims(state, body, work, scale.victims)
    if work.token(DELETE_INSTANCES_OPERATION) is not None:
        # Follow the delete in flight first (with the ids it was started for), then start the next one.
        deleting = [i.instance_id for i in instances if i.deleting]
        await _delete_instances(body, work, service, deleting, state.timings.node_poll_s)
    elif deletable and result.done:
        await _delete_instances(body, work, service, deletable, state.timings.node_poll_s)
    _report_instances(work, service.spec.name, instances, scale, state.timings.node_poll_s)


# --- steps of a pass ---------------------------------------------------------------------------------------


async def _vm_size_usable(state: OperatorState, body: kopf.Body, ctx: ClusterContext, work: Pass) -> bool:
    """Check the size and zones against the cached SKU list; nothing is created for an unusable one."""
    template = work.nodeset.spec.template
    try:
        sizes = await state.skus(ctx.subscription_id).vm_sizes(ctx.location)
    except AzureFailure as error:
        verdict = classify(error, operation="read")
        work.condition(SCALE_SET_READY, "False", verdict.reason, f"listing VM sizes: {verdict.message}")
        work.condition(READY, "False", verdict.reason, f"listing VM sizes: {verdict.message}")
        work.wait(verdict.retry_after or state.timings.retry_s, "the VM size list")
        return False
    problem = plan.check_vm_size(sizes, ctx.location, template.vm_size, template.zones)
    if problem is None:
        return True
    work.condition(SCALE_SET_READY, "False", problem.reason, problem.message)
    work.condition(READY, "False", problem.reason, problem.message)
    if work.became(READY, "False", problem.reason):
        kopf.warn(body, reason=problem.reason, message=problem.message)
    return False


async def _record_scale_set_id(state: OperatorState, nodeset: NodeSet, ref: ScaleSetRef) -> None:
    """Remember where the scale set is before creating it (written at once, not with the status)."""
    if (nodeset.metadata.annotations or {}).get(SCALE_SET_ID_ANNOTATION) == ref.id:
        return
    custom = kubernetes.client.CustomObjectsApi(state.kube.api)
    await state.kube.call(
        custom.patch_namespaced_custom_object,
        GROUP,
        VERSION,
        nodeset.metadata.namespace or "",
        PLURAL,
        nodeset.metadata.name or "",
        {"metadata": {"annotations": {SCALE_SET_ID_ANNOTATION: ref.id}}},
    )


async def _observe(
    state: OperatorState, ctx: ClusterContext, service: ScaleSet, work: Pass
) -> list[plan.ObservedInstance] | None:
    """The scale set's instances with their Nodes (matched by providerID); None when Azure cannot tell."""
    listed = await _list_instances(service, work, state.timings.retry_s)
    if listed is None:
        return None
    ids = {
        i.instance_id: vmss_instance_provider_id(
            ctx.subscription_id, ctx.resource_group, service.name, i.instance_id
        )
        for i in listed
    }
    nodes = await nodes_by_provider_id(state.kube, ids.values())
    observed = []
    for instance in listed:
        node = nodes.get(ids[instance.instance_id])
        view = (
            plan.NodeView(node.name, node.ready, DRAIN_STARTED_ANNOTATION in node.annotations)
            if node is not None
            else None
        )
        created = instance.created.timestamp() if instance.created else 0.0
        observed.append(
            plan.ObservedInstance(instance.instance_id, lowered(instance.provisioning_state), created, view)
        )
    return observed


async def _list_instances(service: ScaleSet, work: Pass, retry_s: float) -> list[ScaleSetInstance] | None:
    try:
        return list(await service.list_instances())
    except AzureFailure as error:
        verdict = classify(error, operation="read")
        if verdict.kind is ErrorKind.MISSING:
            return []
        work.condition(SCALE_SET_READY, "False", verdict.reason, f"listing instances: {verdict.message}")
        work.wait(verdict.retry_after or retry_s, "the instance list")
        return None


async def _release(
    state: OperatorState, body: kopf.Body, instances: tuple[plan.ObservedInstance, ...]
) -> None:
    """Nodes whose drain started for a scale-down that is no longer wanted go back into service."""
    for instance in instances:
        if instance.node is not None and await uncordon(state.kube, instance.node.name):
            kopf.info(body, reason="Uncordoned", message=f"node {instance.node.name} is wanted again")


def _drain_policy(state: OperatorState, *, deleting: bool) -> DrainPolicy:
    """Drains wait for budgets; while the NodeSet itself is deleted they end after the bound."""
    return DrainPolicy(
        timeout=datetime.timedelta(seconds=state.timings.orphan_grace_s),
        on_timeout=OnDrainTimeout.DELETE_PODS if deleting else OnDrainTimeout.WAIT,
        poll_interval_s=state.timings.retry_s / 2,
        blocked_retry_s=state.timings.retry_s * 1.5,
    )


async def _drain_victims(
    state: OperatorState, body: kopf.Body, work: Pass, victims: tuple[plan.ObservedInstance, ...]
) -> list[str]:
    """One drain step per victim; returns the instance ids whose nodes are drained (or never registered)."""
    drained: list[str] = []
    draining: list[str] = []
    blocked: list[str] = []
    policy = _drain_policy(state, deleting=False)
    for victim in victims:
        if victim.node is None:
            drained.append(victim.instance_id)
            continue
        if not victim.node.draining:
            kopf.info(body, reason="Draining", message=f"draining node {victim.node.name} before removing it")
        outcome = await drain_step(state.kube, victim.node.name, policy)
        _classify_drain(outcome, victim.instance_id, drained, draining, blocked, work)
    _drain_conditions(body, work, draining, blocked)
    return drained


def _classify_drain(
    outcome: Drained | InProgress | Blocked | TimedOut,
    instance_id: str,
    drained: list[str],
    draining: list[str],
    blocked: list[str],
    work: Pass,
) -> None:
    if isinstance(outcome, Drained):
        drained.append(instance_id)
        return
    message = f"node {outcome.node}: {outcome.message}"
    if isinstance(outcome, Blocked) or (isinstance(outcome, TimedOut) and outcome.blocked is not None):
        blocked.append(message)
    else:
        draining.append(message)
    work.wait(outcome.retry_after_s, f"the drain of {outcome.node}")


def _drain_conditions(body: kopf.Body, work: Pass, draining: list[str], blocked: list[str]) -> None:
    if draining or blocked:
        work.condition(DRAINING, "True", "Draining", "; ".join(draining + blocked))
    else:
        work.condition(DRAINING, "False", "Idle", "no node is being drained")
    if blocked:
        work.condition(DRAIN_BLOCKED, "True", "DisruptionBudget", "; ".join(blocked))
        if work.became(DRAIN_BLOCKED, "True"):
            kopf.warn(body, reason="DrainBlocked", message="; ".join(blocked))
    else:
        work.condition(DRAIN_BLOCKED, "False", "Idle", "no drain is blocked")


async def _delete_instances(
    body: kopf.Body, work: Pass, service: ScaleSet, instance_ids: list[str], poll_s: float
) -> None:
    token = work.token(DELETE_INSTANCES_OPERATION)
    result = await service.delete_instances(instance_ids, token=token)
    work.keep_token(DELETE_INSTANCES_OPERATION, result.token)
    if result.token is not None and token is None:
        names = ", ".join(plan.instance_name(service.name, i) for i in instance_ids)
        kopf.info(body, reason="DeletingInstances", message=f"deleting drained instances {names}")
    if result.state is StepState.FAILED:
        _report_failure(body, work, result)
    elif result.state is StepState.IN_PROGRESS:
        work.wait(result.retry_after or poll_s / 2, "the instance delete")


# --- status ------------------------------------------------------------------------------------------------


def _report_failure(body: kopf.Body, work: Pass, result: StepResult) -> None:
    message = result.message or result.reason
    work.condition(SCALE_SET_READY, "False", result.reason, message)
    work.condition(READY, "False", result.reason, message)
    if work.became(SCALE_SET_READY, "False", result.reason):
        kopf.warn(body, reason=result.reason, message=message)


def _report_scale_set(body: kopf.Body, work: Pass, result: StepResult, spec: ScaleSetSpec) -> None:
    if result.state is StepState.FAILED:
        _report_failure(body, work, result)
        return
    work.step(SCALE_SET_READY, result, f"scale set {spec.name} matches the NodeSet")
    if result.reason in ("Creating", "Updating"):
        verb = "creating" if result.reason == "Creating" else "updating"
        kopf.info(body, reason="ScaleSet", message=f"{verb} scale set {spec.name} (capacity {spec.capacity})")


def _report_instances(
    work: Pass,
    scale_set: str,
    instances: list[plan.ObservedInstance],
    scale: plan.ScalePlan,
    node_poll_s: float,
) -> None:
    victims = {v.instance_id for v in scale.victims}
    wanted = [i for i in instances if not i.deleting and i.instance_id not in victims]
    ready = [i for i in wanted if i.ready]
    work.status = work.status.model_copy(
        update={
            "instances": [
                NodeSetInstance(
                    name=plan.instance_name(scale_set, i.instance_id),
                    node_name=i.node.name if i.node else None,
                    state=plan.instance_state(i, victim=i.instance_id in victims),
                )
                for i in instances
            ],
            "replicas": len(instances),
            "ready_replicas": len(ready),
            "selector": plan.selector(work.nodeset.metadata.name or ""),
            "scale_set_name": scale_set,
        }
    )
    replicas = work.nodeset.spec.replicas
    deleting = len(instances) - len(wanted) - len(scale.victims)
    _scaling_conditions(work, len(wanted), len(ready), replicas, scale)
    _ready_condition(work, len(wanted), len(ready), deleting, scale, node_poll_s)


def _scaling_conditions(work: Pass, wanted: int, ready: int, replicas: int, scale: plan.ScalePlan) -> None:
    if wanted < replicas:
        work.condition(SCALING_UP, "True", "AddingInstances", f"{wanted}/{replicas} instances exist")
    elif ready < wanted:
        work.condition(SCALING_UP, "True", "WaitingForNodes", f"{ready}/{replicas} nodes are Ready")
    else:
        work.condition(SCALING_UP, "False", "Idle", f"{replicas} instances exist")
    if scale.victims:
        names = ", ".join(v.node.name if v.node else v.instance_id for v in scale.victims)
        work.condition(SCALING_DOWN, "True", "RemovingInstances", f"draining and removing {names}")
    else:
        work.condition(SCALING_DOWN, "False", "Idle", "no instance is being removed")


def _ready_condition(
    work: Pass, wanted: int, ready: int, deleting: int, scale: plan.ScalePlan, node_poll_s: float
) -> None:
    """Ready: the scale set holds exactly the wanted instances and each one's Node is Ready."""
    replicas = work.nodeset.spec.replicas
    scale_set_ok = any(c.type == SCALE_SET_READY and c.status == "True" for c in work.status.conditions)
    if not scale_set_ok:
        failed = next(c for c in work.status.conditions if c.type == SCALE_SET_READY)
        work.condition(READY, "False", failed.reason, failed.message)
    elif scale.victims or deleting:
        removing = len(scale.victims) + deleting
        work.condition(READY, "False", "ScalingDown", f"removing {removing} instance(s)")
    elif wanted < replicas or ready < replicas:
        work.condition(READY, "False", "WaitingForNodes", f"{ready}/{replicas} nodes are Ready")
    else:
        work.condition(READY, "True", "Ready", f"{ready}/{replicas} nodes are Ready")
    if not work.is_ready() and work.retry_after is None and scale_set_ok:
        scaling = wanted < replicas or deleting
        work.wait(node_poll_s / 2 if scaling else node_poll_s, "nodes to become Ready")


# --- deletion ----------------------------------------------------------------------------------------------


async def delete(state: OperatorState, body: kopf.Body, patch: kopf.Patch) -> None:
    """Drain, delete the scale set, and let kopf release the finalizer; never waits forever for a Cluster."""
    nodeset = NodeSet.model_validate(dict(body))
    work = Pass.of(nodeset)
    async with state.lock(_key(nodeset)):
        await _delete(state, body, work)
    work.write(patch)
    if work.retry_after is not None:
        raise kopf.TemporaryError(
            f"deleting: waiting for {'; '.join(work.waiting_for)}", delay=work.retry_after
        )


async def _delete(state: OperatorState, body: kopf.Body, work: Pass) -> None:
    ref = await _deletion_target(state, body, work)
    if ref is None:
        return
    clients = state.azure.subscription(ref.subscription_id)
    service = ScaleSet(
        clients, cluster=ref.cluster, resource_group=ref.resource_group, spec=_address(ref, work)
    )
    if work.nodeset.spec.role != "ControlPlane" and not await _drain_all(state, body, work, ref, service):
        return
    result = await service.delete(work.token(DELETE_OPERATION))
    work.keep_token(DELETE_OPERATION, result.token)
    if result.done:
        kopf.info(body, reason="ScaleSetDeleted", message=f"scale set {ref.name} is deleted")
        return
    work.condition(DELETING, "True", result.reason, result.message or f"deleting scale set {ref.name}")
    if result.state is StepState.FAILED:
        if work.became(DELETING, "True", result.reason):
            kopf.warn(body, reason=result.reason, message=result.message)
        work.wait(state.timings.resync_s, "the scale set delete")
    else:
        work.wait(result.retry_after or 1.0, "the scale set delete")


async def _deletion_target(state: OperatorState, body: kopf.Body, work: Pass) -> ScaleSetRef | None:
    """Where the scale set is: from the Cluster, or (after the grace period) from the recorded id."""
    nodeset = work.nodeset
    recorded_id = (nodeset.metadata.annotations or {}).get(SCALE_SET_ID_ANNOTATION)
    recorded = ScaleSetRef.parse(recorded_id, nodeset.spec.cluster_name) if recorded_id else None
    try:
        ctx = await load_cluster_context(
            state.kube, nodeset.metadata.namespace or "", nodeset.spec.cluster_name
        )
    except ClusterNotReady as error:
        if recorded is None:
            return None  # nothing was ever created in Azure
        deleted_at = _deletion_started(body)
        give_up_at = deleted_at + datetime.timedelta(seconds=state.timings.orphan_grace_s)
        if datetime.datetime.now(datetime.UTC) < give_up_at:
            # A fixed deadline in the message, so waiting passes do not rewrite the status.
            work.condition(
                DELETING,
                "True",
                error.reason,
                f"Cluster {nodeset.spec.cluster_name}: {error.message}; scale set {recorded.name} is deleted "
                f"without it at {give_up_at.isoformat(timespec='seconds')}",
            )
            work.wait(state.timings.context_missing_s, f"Cluster {nodeset.spec.cluster_name}")
            return None
        kopf.warn(
            body,
            reason="DeletingWithoutCluster",
            message=f"Cluster {nodeset.spec.cluster_name}: {error.message}; "
            f"deleting scale set {recorded.name}",
        )
        return recorded
    if ctx.spec.paused:
        work.condition(DELETING, "True", "Paused", f"Cluster {ctx.name} has spec.paused set: deletion waits")
        work.wait(state.timings.context_missing_s, "the Cluster to be unpaused")
        return None
    return scale_set_ref(ctx, nodeset)


def _deletion_started(body: kopf.Body) -> datetime.datetime:
    stamp = body.metadata.get("deletionTimestamp")
    if not stamp:
        return datetime.datetime.now(datetime.UTC)
    return datetime.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))


def _address(ref: ScaleSetRef, work: Pass) -> ScaleSetSpec:
    """A spec that only names the scale set: deletion and listing need nothing else."""
    name = work.nodeset.metadata.name or ""
    return ScaleSetSpec(
        name=ref.name,
        location="",
        vm_size=work.nodeset.spec.template.vm_size,
        capacity=0,
        subnet_id="",
        image=plan.DEFAULT_IMAGE,
        admin_username=plan.ADMIN_USERNAME,
        ssh_public_key="",
        computer_name_prefix=plan.computer_name_prefix(name),
    )


async def _drain_all(
    state: OperatorState, body: kopf.Body, work: Pass, ref: ScaleSetRef, service: ScaleSet
) -> bool:
    listed = await _list_instances(service, work, state.timings.retry_s)
    if listed is None:
        return False
    ids = [
        vmss_instance_provider_id(ref.subscription_id, ref.resource_group, ref.name, i.instance_id)
        for i in listed
    ]
    nodes = await nodes_by_provider_id(state.kube, ids)
    policy = _drain_policy(state, deleting=True)
    pending: list[str] = []
    for node in nodes.values():
        outcome = await drain_step(state.kube, node.name, policy)
        if not isinstance(outcome, Drained):
            pending.append(f"node {node.name}: {outcome.message}")
            work.wait(outcome.retry_after_s, f"the drain of {node.name}")
    if pending:
        work.condition(DELETING, "True", "Draining", "; ".join(pending))
        if work.became(DELETING, "True", "Draining"):
            kopf.info(body, reason="Draining", message=f"draining {len(pending)} node(s) before deletion")
        return False
    return True
