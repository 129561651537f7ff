"""NodePool controller: a pool's NodeSets follow its replicas and template, one bounded step at a time.

A NodePool is to NodeSets what a Deployment is to ReplicaSets. Each pass lists the NodeSets the pool
controls (ownerReference uid, never only the label), hands what they report to the pure rollout planner
(`planner.rollout`) and runs the actions it returns: create the NodeSet of the current template, set
NodeSets' replicas, delete old NodeSets that are empty. Passes remember nothing, so an operator restart at any
moment plans again from the cluster's objects and stays within `maxSurge` / `maxUnavailable`.

Division of work with the NodeSet controller: lowering a NodeSet's replicas makes *it* choose the victims,
cordon them, drain them through the Eviction API (PodDisruptionBudgets honoured, DaemonSet and mirror pods
skipped) and only then delete their VMs. Its status (instance states, `DrainBlocked`) is what this controller
reads back.

Timeouts, and what happens at them (nothing is ever forced):
- nodeStartupTimeout: new nodes not Ready that long after they were asked for stall the rollout at its surge
  bound — no more old nodes are drained, no more VMs added — with Ready/RollingOut reason NodeStartupTimeout.
  It resumes by itself once the nodes turn Ready, or when the template changes again.
- drainTimeout: a drain blocked longer than that (or one its NodeSet reports as timed out) stalls the
  rollout with reason DrainTimeout and a message naming the PodDisruptionBudget and pod. The old node keeps
  running and eviction keeps being retried; pods are never deleted past their budget. Lifting the budget
  (or moving the pod) lets the drain and then the rollout finish.

Scheduling: a per-pool observation timer runs every pass. It waits between passes for a wake-up — the pool's
spec changed, or one of its NodeSets changed (a node turned Ready, a drain finished) — or for the resync
interval, so steps follow each other without polling delays while one timer remains the only writer.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any, Final

import kopf

from azk_operator.api.meta import GROUP, VERSION
from azk_operator.api.nodepool import NodePool, NodePoolStatus
from azk_operator.controllers.nodepool_nodesets import (
    NodeSetNameTaken,
    create_node_set,
    delete_node_set,
    get_cluster,
    list_labelled_node_sets,
    patch_node_set,
)
from azk_operator.controllers.nodepool_wakeups import PoolKey, PoolWakeups
from azk_operator.controllers.state import OperatorState
from azk_operator.planner.pool_nodesets import PoolNameUnusable, new_node_set, pool_selector, scale_patch
from azk_operator.planner.pool_observation import (
    POOL_LABEL,
    PoolNodeSet,
    controlled_by,
    observe_pool,
    own_node_sets,
)
from azk_operator.planner.pool_status import blocked_status, rollout_status
from azk_operator.planner.rollout import (
    CreateNodeSet,
    DeleteNodeSet,
    Plan,
    ScaleNodeSet,
    Stalled,
    Wait,
    plan_rollout,
)
from azk_operator.planner.strategy import InvalidStrategy

NODEPOOLS: Final = "nodepools"
MIN_PASS_GAP_S: Final = 0.2
"""Shortest time between two passes of one pool: a burst of NodeSet events costs one pass, not many."""
MIN_RECHECK_S: Final = 0.5
_WAKEUPS: Final = "nodepool_wakeups"
_NEXT_WAIT: Final = "nodepool_next_wait"


def register(registry: kopf.OperatorRegistry, resync_s: float) -> None:
    """NodePool handlers, plus the NodeSet event handler that wakes a NodeSet's pool."""

    @kopf.on.startup(registry=registry)
    def create_wakeups(memo: kopf.Memo, **_: Any) -> None:
        # The operator-wide memo: every object's memo is a shallow copy of it, so all share this registry.
        memo[_WAKEUPS] = PoolWakeups()

    @kopf.on.resume(GROUP, VERSION, NODEPOOLS, registry=registry)
    @kopf.on.create(GROUP, VERSION, NODEPOOLS, registry=registry)
    @kopf.on.update(GROUP, VERSION, NODEPOOLS, registry=registry, field="spec")
    def changed(namespace: str | None, name: str, memo: Any, **_: Any) -> None:
        _wakeups(memo).wake((namespace or "", name))

    @kopf.on.event(GROUP, VERSION, "nodesets", registry=registry, labels={POOL_LABEL: kopf.PRESENT})
    def node_set_changed(namespace: str | None, labels: Mapping[str, str], memo: Any, **_: Any) -> None:
        _wakeups(memo).wake((namespace or "", labels[POOL_LABEL]))

    # A failed pass (e.g. the apiserver restarting) is retried after a fraction of the resync period.
    @kopf.timer(
        GROUP, VERSION, NODEPOOLS, registry=registry, interval=MIN_PASS_GAP_S, backoff=max(1.0, resync_s / 6)
    )
    async def observe(
        body: kopf.Body,
        patch: kopf.Patch,
        memo: Any,
        namespace: str | None,
        name: str,
        **kwargs: Any,
    ) -> None:
        stopped: kopf.DaemonStopped = kwargs["stopped"]
        key: PoolKey = (namespace or "", name)
        if _NEXT_WAIT in memo:  # the first pass after (re)start runs at once
            await _wakeups(memo).wait(key, stopped.wait(memo[_NEXT_WAIT]))
            if stopped:
                return
        memo[_NEXT_WAIT] = await reconcile(memo.state, body, patch, resync_s)

    @kopf.on.delete(GROUP, VERSION, NODEPOOLS, registry=registry)
    async def deleted(body: kopf.Body, memo: Any, namespace: str | None, name: str, **_: Any) -> None:
        await delete(memo.state, body)
        _wakeups(memo).forget((namespace or "", name))


def _wakeups(memo: Any) -> PoolWakeups:
    wakeups: PoolWakeups = memo[_WAKEUPS]
    return wakeups


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def reconcile(state: OperatorState, body: kopf.Body, patch: kopf.Patch, resync_s: float) -> float:
    """One planning pass; returns the seconds after which to look again without being woken."""
    if body.metadata.get("deletionTimestamp"):
        return resync_s
    now = _now()
    pool = NodePool.model_validate(dict(body))
    namespace, name = pool.metadata.namespace or "", pool.metadata.name or ""
    previous = pool.status
    blocker = await _unplannable(state, pool)
    if blocker is not None:
        _write_status(body, patch, blocked_status(pool, previous, *blocker, now=_seconds(now)))
        return resync_s
    own = own_node_sets(pool.metadata.uid or "", await list_labelled_node_sets(state.kube, namespace, name))
    try:
        observation = observe_pool(pool, own, now)
    except InvalidStrategy as error:
        _write_status(
            body, patch, blocked_status(pool, previous, "InvalidStrategy", str(error), _seconds(now))
        )
        return resync_s
    plan = plan_rollout(observation)
    status = rollout_status(pool, observation, plan, previous, _seconds(now))
    try:
        await _apply(state, body, pool, own, plan, now)
    except NodeSetNameTaken as error:
        status = blocked_status(pool, status, "NodeSetNameTaken", str(error), _seconds(now))
    _announce_stall(body, plan, previous)
    _write_status(body, patch, status)
    return _recheck_after(plan, resync_s)


def _seconds(now: datetime.datetime) -> datetime.datetime:
    """Condition times in whole seconds, as Kubernetes writes them."""
    return now.replace(microsecond=0)


async def _unplannable(state: OperatorState, pool: NodePool) -> tuple[str, str] | None:
    """(reason, message) when the pool must not be acted on now."""
    namespace, name = pool.metadata.namespace or "", pool.metadata.name or ""
    try:
        pool_selector(name)
    except PoolNameUnusable as error:
        return "InvalidName", str(error)
    cluster = await get_cluster(state.kube, namespace, pool.spec.cluster_name)
    if cluster is None:
        return "ClusterNotFound", f"Cluster {pool.spec.cluster_name} does not exist"
    if (cluster.get("spec") or {}).get("paused"):
        return "ClusterPaused", f"Cluster {pool.spec.cluster_name} is paused; no NodeSet is changed"
    return None


async def _apply(
    state: OperatorState,
    body: kopf.Body,
    pool: NodePool,
    own: Sequence[PoolNodeSet],
    plan: Plan,
    now: datetime.datetime,
) -> None:
    """Run every action of the plan in order (deletions, surge, then scale-downs)."""
    namespace = pool.metadata.namespace or ""
    by_name = {s.name: s for s in own}
    for action in plan.actions:
        match action:
            case CreateNodeSet(name=name, replicas=replicas):
                await create_node_set(state.kube, new_node_set(pool, name, replicas, now))
                kopf.info(
                    body, reason="NodeSetCreated", message=f"created NodeSet {name} ({replicas} node(s))"
                )
            case ScaleNodeSet(name=name, replicas=replicas):
                node_set = by_name[name]
                await patch_node_set(state.kube, namespace, name, scale_patch(node_set, replicas, now))
                kopf.info(
                    body,
                    reason="NodeSetScaled",
                    message=f"NodeSet {name}: {node_set.model.spec.replicas} -> {replicas} node(s)",
                )
            case DeleteNodeSet(name=name):
                await delete_node_set(state.kube, namespace, name)
                kopf.info(body, reason="NodeSetDeleted", message=f"deleted empty old NodeSet {name}")


def _announce_stall(body: kopf.Body, plan: Plan, previous: NodePoolStatus | None) -> None:
    """A warning event when the rollout stalls, once per cause."""
    outcome = plan.outcome
    if not isinstance(outcome, Stalled):
        return
    ready = next((c for c in previous.conditions if c.type == "Ready"), None) if previous else None
    if ready is None or ready.reason != outcome.reason:
        kopf.warn(body, reason=outcome.reason, message=outcome.message)


def _recheck_after(plan: Plan, resync_s: float) -> float:
    """Wake-ups cover NodeSet changes; a node startup deadline is a change of time only."""
    outcome = plan.outcome
    if isinstance(outcome, Wait) and outcome.recheck_after_s is not None:
        return min(resync_s, max(MIN_RECHECK_S, outcome.recheck_after_s))
    return resync_s


def _write_status(body: kopf.Body, patch: kopf.Patch, status: NodePoolStatus) -> None:
    """Patch only the status fields that differ, so a converged pool costs no write."""
    new = status.model_dump(mode="json", by_alias=True, exclude_none=True)
    old: Mapping[str, Any] = body.get("status") or {}
    for key in new.keys() | old.keys():
        if new.get(key) != old.get(key):
            patch.status[key] = new.get(key)


async def delete(state: OperatorState, body: kopf.Body) -> None:
    """Delete the pool's own NodeSets (each drains its nodes first) and wait until they are gone."""
    namespace, name, uid = body.metadata.namespace or "", body.metadata.name or "", body.metadata.uid or ""
    try:
        listed = await list_labelled_node_sets(state.kube, namespace, name)
    except PoolNameUnusable:
        return  # such a pool never had NodeSets
    own = [obj for obj in listed if controlled_by(obj, uid)]
    for obj in own:
        if not obj["metadata"].get("deletionTimestamp"):
            await delete_node_set(state.kube, namespace, obj["metadata"]["name"])
            kopf.info(body, reason="NodeSetDeleted", message=f"deleting NodeSet {obj['metadata']['name']}")
    if own:
        names = ", ".join(sorted(obj["metadata"]["name"] for obj in own))
        raise kopf.TemporaryError(
            f"waiting for NodeSet(s) {names} to be deleted", delay=state.timings.retry_s
        )
