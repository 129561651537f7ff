"""Cluster controller: base infrastructure, the control-plane NodeSet, the join token, and deletion.

Each pass is stateless: it reads the Cluster, advances the Azure layer's base-infrastructure plan by one
non-blocking step (continuation tokens kept in status.pendingOperations as an accelerator), applies the
control-plane NodeSet, keeps a valid bootstrap token, and writes conditions. When nothing differs it sends no
Azure write and no status write.

Deletion runs on the control plane being deleted, so its last step must finish without the operator:
worker NodePools and NodeSets go first (each drained by its own controller); then, when azk owns the resource
group, one resource-group delete that Azure completes on its own takes the control plane and the network
with it, and the finalizer is released as soon as Azure accepted it. When the group is not azk's, the
operator deletes the control-plane NodeSet last and leaves the network to `azk delete`, which runs the same
Azure-layer delete from outside. A user sees the Cluster object go away first and the Azure resources follow.
"""

from __future__ import annotations

import datetime
from typing import Any

import kopf
import kubernetes

from azk_operator.api.cluster import Cluster, ClusterStatus
from azk_operator.api.conditions import READY, ConditionStatus, set_condition
from azk_operator.api.meta import GROUP, VERSION
from azk_operator.api.status import PendingOperation
from azk_operator.azure.infra import BaseInfrastructure, Condition, InfraStatus
from azk_operator.bootstrap.cluster_secrets import cluster_token_secret
from azk_operator.bootstrap.tokens import BootstrapToken
from azk_operator.controllers.context import TOKEN_MIN_REMAINING, cluster_tokens
from azk_operator.controllers.state import OperatorState
from azk_operator.kube.apply import apply_manifests
from azk_operator.planner.cluster_infra import base_infra_spec
from azk_operator.planner.control_plane import control_plane_nodeset, control_plane_nodeset_name

CONTROL_PLANE_READY = "ControlPlaneReady"
TOKEN_LIFETIME = datetime.timedelta(hours=24)
# A fresh token is made once the newest has less than this left, so one is always valid for a boot.
TOKEN_RENEW_BEFORE = datetime.timedelta(hours=8)
APISERVER_PORT = 6443


def register(registry: kopf.OperatorRegistry, resync_s: float) -> None:
    @kopf.on.resume(GROUP, VERSION, "clusters", registry=registry)
    @kopf.on.create(GROUP, VERSION, "clusters", registry=registry)
    @kopf.on.update(GROUP, VERSION, "clusters", registry=registry, field="spec")
    async def changed(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, **_: Any) -> None:
        await reconcile(memo.state, body, patch)

    @kopf.timer(GROUP, VERSION, "clusters", registry=registry, interval=resync_s, initial_delay=resync_s)
    async def resync(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, **_: Any) -> None:
        await reconcile(memo.state, body, patch, raise_in_progress=False)

    @kopf.on.delete(GROUP, VERSION, "clusters", registry=registry)
    async def deleted(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, **_: Any) -> None:
        await delete(memo.state, body, patch)


async def reconcile(
    state: OperatorState, body: kopf.Body, patch: kopf.Patch, raise_in_progress: bool = True
) -> None:
    """One pass over the Cluster; raises TemporaryError while Azure or the control plane is still working."""
    cluster = Cluster.model_validate(dict(body))
    name, namespace = cluster.metadata.name or "", cluster.metadata.namespace or ""
    status = cluster.status or ClusterStatus()
    if cluster.spec.paused:
        _write_status(
            patch, status, _with(status, cluster, READY, "False", "Paused", "spec.paused is set: no writes")
        )
        return
    async with state.lock(f"cluster/{namespace}/{name}"):
        clients = state.azure.subscription(cluster.spec.azure.subscription_id)
        plan = BaseInfrastructure(clients, base_infra_spec(name, cluster.spec))
        infra = await plan.reconcile(_tokens(status))
        new = _with_infra(status, cluster, infra)
        address = await plan.apiserver_address() if infra.done else None
        if address is not None and address.ip_address:
            new = new.model_copy(update={"endpoint": f"https://{address.ip_address}:{APISERVER_PORT}"})
            await _ensure_token(state, name, namespace)
            await apply_manifests(
                state.kube,
                control_plane_nodeset(name, namespace, cluster.metadata.uid or "", cluster.spec),
                force_conflicts=True,
            )
            new = _with_control_plane(new, cluster, await _control_plane_status(state, name, namespace))
        new = _with_ready(new, cluster)
    _write_status(patch, status, new)
    if infra.failed:
        first = infra.failed[0]
        kopf.warn(body, reason=first.reason, message=f"{first.name}: {first.message}")
    if raise_in_progress and not _ready(new):
        delay = infra.retry_after if not infra.done and infra.retry_after else state.timings.retry_s
        raise kopf.TemporaryError("cluster is converging", delay=delay)


async def delete(state: OperatorState, body: kopf.Body, patch: kopf.Patch) -> None:
    """Delete workers, then the control plane and the base infrastructure (see the module docstring)."""
    cluster = Cluster.model_validate(dict(body))
    name, namespace = cluster.metadata.name or "", cluster.metadata.namespace or ""
    remaining = await _delete_workers(state, name, namespace)
    if remaining:
        raise kopf.TemporaryError(
            f"waiting for {', '.join(remaining[:5])} to go", delay=state.timings.retry_s
        )
    status = cluster.status or ClusterStatus()
    clients = state.azure.subscription(cluster.spec.azure.subscription_id)
    plan = BaseInfrastructure(clients, base_infra_spec(name, cluster.spec))
    result = await plan.delete(_tokens(status))
    group = result.steps[0]
    if result.failed:
        raise kopf.TemporaryError(f"{group.name}: {group.message}", delay=state.timings.retry_s)
    if group.token is not None or result.done:
        # The group delete is accepted (or nothing is left): Azure finishes it without us.
        kopf.info(body, reason="Deleting", message="Azure is deleting the cluster's resources")
        return
    _write_status(patch, status, status.model_copy(update={"pending_operations": _pending(result, status)}))
    raise kopf.TemporaryError("deleting Azure resources", delay=result.retry_after or state.timings.retry_s)


# --- steps -------------------------------------------------------------------------------------------------


async def _ensure_token(state: OperatorState, cluster: str, namespace: str) -> None:
    """Keep a bootstrap token that is valid for a while; drop expired ones."""
    now = datetime.datetime.now(datetime.UTC)
    tokens = await cluster_tokens(state.kube, namespace, cluster)
    for expired in (t for t in tokens if t.expires <= now):
        await state.kube.call(state.kube.core.delete_namespaced_secret, expired.secret_name, "kube-system")
    newest = max((t.expires for t in tokens), default=None)
    if newest is not None and newest - now > max(TOKEN_RENEW_BEFORE, TOKEN_MIN_REMAINING):
        return
    manifest = cluster_token_secret(cluster, namespace, BootstrapToken.generate(), now + TOKEN_LIFETIME)
    await apply_manifests(state.kube, manifest)


async def _control_plane_status(state: OperatorState, cluster: str, namespace: str) -> dict[str, Any]:
    custom = kubernetes.client.CustomObjectsApi(state.kube.api)
    obj: Any = await state.kube.call(
        custom.get_namespaced_custom_object,
        GROUP,
        VERSION,
        namespace,
        "nodesets",
        control_plane_nodeset_name(cluster),
    )
    found: dict[str, Any] = obj.get("status") or {}
    return found


async def _delete_workers(state: OperatorState, cluster: str, namespace: str) -> list[str]:
    """Ask every NodePool and worker NodeSet of the cluster to go; return those still there."""
    custom = kubernetes.client.CustomObjectsApi(state.kube.api)
    remaining: list[str] = []
    for plural in ("nodepools", "nodesets"):
        listed: Any = await state.kube.call(
            custom.list_namespaced_custom_object, GROUP, VERSION, namespace, plural
        )
        for item in listed.get("items", []):
            spec = item.get("spec", {})
            if spec.get("clusterName") != cluster or spec.get("role") == "ControlPlane":
                continue
            name = item["metadata"]["name"]
            remaining.append(f"{plural}/{name}")
            if not item["metadata"].get("deletionTimestamp"):
                await state.kube.call(
                    custom.delete_namespaced_custom_object, GROUP, VERSION, namespace, plural, name
                )
    return remaining


# --- status ------------------------------------------------------------------------------------------------


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def _with(
    status: ClusterStatus, cluster: Cluster, kind: str, value: ConditionStatus, reason: str, message: str
) -> ClusterStatus:
    conditions = set_condition(
        status.conditions,
        kind,
        value,
        reason,
        message,
        now=_now(),
        observed_generation=cluster.metadata.generation,
    )
    return status.model_copy(
        update={"conditions": conditions, "observed_generation": cluster.metadata.generation}
    )


def _with_infra(status: ClusterStatus, cluster: Cluster, infra: InfraStatus) -> ClusterStatus:
    new = status.model_copy(update={"pending_operations": _pending(infra, status)})
    for condition in infra.conditions():
        new = _with_condition(new, cluster, condition)
    return new


def _with_condition(status: ClusterStatus, cluster: Cluster, condition: Condition) -> ClusterStatus:
    return _with(
        status,
        cluster,
        condition.type,
        "True" if condition.status else "False",
        condition.reason or "Unknown",
        condition.message,
    )


def _with_control_plane(status: ClusterStatus, cluster: Cluster, nodeset: dict[str, Any]) -> ClusterStatus:
    wanted = cluster.spec.control_plane.replicas
    ready = int(nodeset.get("readyReplicas") or 0)
    new = status.model_copy(
        update={
            "control_plane_replicas": int(nodeset.get("replicas") or 0),
            "control_plane_ready_replicas": ready,
            "kubernetes_version": cluster.spec.kubernetes_version,
        }
    )
    if ready >= wanted:
        return _with(
            new, cluster, CONTROL_PLANE_READY, "True", "Ready", f"{ready}/{wanted} control-plane nodes Ready"
        )
    return _with(
        new,
        cluster,
        CONTROL_PLANE_READY,
        "False",
        "WaitingForNodes",
        f"{ready}/{wanted} control-plane nodes Ready",
    )


def _with_ready(status: ClusterStatus, cluster: Cluster) -> ClusterStatus:
    not_ready = [c for c in status.conditions if c.type != READY and c.status != "True"]
    if (
        status.endpoint is None
        or any(c.type == CONTROL_PLANE_READY for c in not_ready)
        or not any(c.type == CONTROL_PLANE_READY for c in status.conditions)
    ):
        first = not_ready[0] if not_ready else None
        reason = first.reason if first else "Provisioning"
        message = f"{first.type}: {first.message}" if first else "waiting for the control plane"
        return _with(status, cluster, READY, "False", reason, message)
    if not_ready:
        first = not_ready[0]
        return _with(status, cluster, READY, "False", first.reason, f"{first.type}: {first.message}")
    return _with(status, cluster, READY, "True", "Ready", "infrastructure and control plane are ready")


def _ready(status: ClusterStatus) -> bool:
    return any(c.type == READY and c.status == "True" for c in status.conditions)


def _tokens(status: ClusterStatus) -> dict[str, str]:
    return {op.key: op.token for op in status.pending_operations}


def _pending(infra: InfraStatus, status: ClusterStatus) -> list[PendingOperation]:
    kept = {op.key: op for op in status.pending_operations}
    now = _now()
    return [
        kept.get(key) or PendingOperation(key=key, token=token, started_at=now)
        for key, token in infra.tokens.items()
    ]


def _write_status(patch: kopf.Patch, old: ClusterStatus, new: ClusterStatus) -> None:
    """Patch status only when it changed: a converged cluster makes no writes at all."""
    before = old.model_dump(mode="json", by_alias=True, exclude_none=True)
    after = new.model_dump(mode="json", by_alias=True, exclude_none=True)
    if before != after:
        for key, value in after.items():
            patch.status[key] = value
        for key in before.keys() - after.keys():
            patch.status[key] = None
