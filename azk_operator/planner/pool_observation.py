"""A NodePool and its NodeSets as the Kubernetes API returns them -> the rollout planner's observation.

Everything the planner needs is read from the objects on every pass, nothing is remembered in the operator,
which is what makes a rollout resumable after a restart:

- which NodeSets belong to the pool: those whose controller ownerReference carries the pool's uid. The pool
  label only narrows the list call; a NodeSet left behind by a deleted pool of the same name (other uid), or
  one that merely copies the label, is never scaled or deleted;
- counts from each NodeSet's status: its instance list (one entry per VM, state set by the NodeSet
  controller) gives existing VMs, Ready nodes and nodes being drained or deleted;
- when the longest-waiting wanted node was asked for: the `engine.azk.io/scale-up-requested-at` annotation
  this controller writes whenever it raises a NodeSet's replicas while none of its nodes are waiting
  (falling back to the NodeSet's creation time), so nodeStartupTimeout survives restarts;
- drains: the NodeSet's `DrainBlocked` condition names what blocks a drain (PodDisruptionBudget and pod);
  a drain counts as timed out once DrainBlocked has been True for longer than the pool's
  `strategy.drainTimeout`. Nothing is forced then: the planner stalls the rollout (DrainTimeout) with all
  old capacity kept, and it resumes once the eviction goes through.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from azk_operator.api.conditions import find_condition
from azk_operator.api.meta import API_VERSION
from azk_operator.api.nodepool import NodePool
from azk_operator.api.nodeset import NodeSet
from azk_operator.api.types import duration_seconds
from azk_operator.planner.naming import template_hash
from azk_operator.planner.rollout import ObservedNodeSet, PoolObservation
from azk_operator.planner.strategy import RolloutStrategy

POOL_LABEL: Final = "engine.azk.io/nodepool"
SCALE_UP_ANNOTATION: Final = "engine.azk.io/scale-up-requested-at"
DRAIN_BLOCKED: Final = "DrainBlocked"

#: Instance states (NodeSetInstance.state) of a VM on its way out: cordoned, drained or being deleted.
LEAVING_STATES: Final = frozenset({"Draining", "Deleting"})
READY_STATE: Final = "Ready"


@dataclass(frozen=True)
class PoolNodeSet:
    """One NodeSet of the pool: its validated model plus the metadata the planner reads."""

    name: str
    model: NodeSet
    template_hash: str
    created: datetime.datetime
    deleting: bool
    scale_up_requested_at: datetime.datetime | None


def parse_time(text: str | None) -> datetime.datetime | None:
    """An RFC 3339 timestamp as the API server writes it (`2026-12-04T10:28:18Z`)."""
    if not text:
        return None
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def format_time(moment: datetime.datetime) -> str:
    """RFC 3339 in UTC with microseconds: startup clocks are compared against timeouts of seconds."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def controlled_by(obj: Mapping[str, Any], owner_uid: str) -> bool:
    """Whether `obj`'s controller ownerReference is the NodePool with `owner_uid`."""
    refs: Iterable[Mapping[str, Any]] = obj.get("metadata", {}).get("ownerReferences") or ()
    return any(
        ref.get("uid") == owner_uid
        and ref.get("controller") is True
        and ref.get("kind") == "NodePool"
        and ref.get("apiVersion") == API_VERSION
        for ref in refs
    )


def own_node_sets(pool_uid: str, listed: Iterable[Mapping[str, Any]]) -> list[PoolNodeSet]:
    """The pool's own NodeSets among `listed` (any NodeSets, e.g. those carrying the pool label)."""
    own: list[PoolNodeSet] = []
    for obj in listed:
        if not controlled_by(obj, pool_uid):
            continue
        model = NodeSet.model_validate(obj)
        meta: Mapping[str, Any] = obj["metadata"]
        created = parse_time(meta.get("creationTimestamp"))
        if created is None:
            raise ValueError(f"NodeSet {meta.get('name')} has no creationTimestamp")
        own.append(
            PoolNodeSet(
                name=str(meta["name"]),
                model=model,
                template_hash=template_hash(model.spec.template.model_dump(mode="json", by_alias=True)),
                created=created,
                deleting=bool(meta.get("deletionTimestamp")),
                scale_up_requested_at=parse_time((meta.get("annotations") or {}).get(SCALE_UP_ANNOTATION)),
            )
        )
    return own


def waiting_nodes(node_set: NodeSet) -> int:
    """Wanted nodes that are not Ready yet: not created, booting, joining or NotReady.

    Scale-downs remove leaving, unready and then the newest nodes first (`victims`), so of `replicas`
    wanted nodes the Ready ones are kept and the rest are still to come.
    """
    return max(0, node_set.spec.replicas - _counts(node_set)[1])


def _counts(node_set: NodeSet) -> tuple[int, int, int]:
    """(instances, ready, leaving) from the NodeSet's status."""
    status = node_set.status
    if status is None:
        return 0, 0, 0
    ready = sum(1 for i in status.instances if i.state == READY_STATE)
    leaving = sum(1 for i in status.instances if i.state in LEAVING_STATES)
    # The larger of the two counts, so a status caught between updates never under-counts the VMs.
    instances = max(len(status.instances), status.replicas or 0)
    return instances, ready, leaving


def _drain_state(
    node_set: NodeSet, drain_timeout_s: float, now: datetime.datetime
) -> tuple[str | None, bool]:
    """(what blocks a drain, whether it has been blocked for longer than the pool's drainTimeout).

    The NodeSet controller keeps evicting (it never forces a worker's drain for a scale-down), so the pool's
    drainTimeout is measured here, from when the NodeSet's DrainBlocked condition turned True.
    """
    conditions = node_set.status.conditions if node_set.status else []
    blocked = find_condition(conditions, DRAIN_BLOCKED)
    if blocked is None or blocked.status != "True":
        return None, False
    overdue = (now - blocked.last_transition_time).total_seconds() >= drain_timeout_s
    return blocked.message or blocked.reason, overdue


def observe_node_set(
    node_set: PoolNodeSet, pool: str, drain_timeout_s: float, now: datetime.datetime
) -> ObservedNodeSet:
    instances, ready, leaving = _counts(node_set.model)
    requested = node_set.scale_up_requested_at or node_set.created
    blocked, timed_out = _drain_state(node_set.model, drain_timeout_s, now)
    return ObservedNodeSet(
        name=node_set.name,
        template_hash=node_set.template_hash,
        owner=pool,
        replicas=node_set.model.spec.replicas,
        # The status may trail the instance list by one update; ready + leaving never exceeds the VMs.
        instances=max(instances, ready + leaving),
        ready=ready,
        created=node_set.created.timestamp(),
        draining=leaving,
        booting_since=requested.timestamp() if waiting_nodes(node_set.model) else None,
        drain_blocked=blocked,
        drain_timed_out=timed_out,
        deleting=node_set.deleting,
    )


def pool_template_hash(pool: NodePool) -> str:
    return template_hash(pool.spec.template.model_dump(mode="json", by_alias=True))


def planner_strategy(pool: NodePool) -> RolloutStrategy:
    """The API strategy's bounds in the planner's terms (raises InvalidStrategy for unusable values)."""
    return RolloutStrategy(
        max_surge=pool.spec.strategy.max_surge, max_unavailable=pool.spec.strategy.max_unavailable
    )


def observe_pool(pool: NodePool, node_sets: Sequence[PoolNodeSet], now: datetime.datetime) -> PoolObservation:
    """The planner's view of `pool` and its own NodeSets at `now`."""
    name = pool.metadata.name or ""
    strategy = pool.spec.strategy
    drain_timeout_s = float(duration_seconds(strategy.drain_timeout))
    return PoolObservation(
        pool=name,
        replicas=pool.spec.replicas,
        template_hash=pool_template_hash(pool),
        strategy=planner_strategy(pool),
        node_sets=tuple(observe_node_set(s, name, drain_timeout_s, now) for s in node_sets),
        now=now.timestamp(),
        node_startup_timeout_s=float(duration_seconds(strategy.node_startup_timeout)),
    )
