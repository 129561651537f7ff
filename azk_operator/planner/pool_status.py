"""A NodePool's status from one planning pass: counts, a short NodeSet list and the conditions (pure).

Conditions, all with the pool's generation:
- Ready: True once the planner reports Done (only the current NodeSet is left, with exactly `replicas`
  Ready nodes); otherwise False with the planner's reason (WaitingForNodes, Draining, DrainBlocked,
  NodeStartupTimeout, DrainTimeout, ...) and message.
- RollingOut: True while an old NodeSet of the pool exists, with the same reason and message, so a stalled
  rollout says why (NodeStartupTimeout, DrainTimeout) and a blocked drain names the PodDisruptionBudget and
  the pod.
- ScalingUp / ScalingDown: outside a rollout, True while the current NodeSet has fewer Ready nodes than
  wanted / more nodes than wanted (scale-downs drain first, so DrainBlocked shows up here too).
"""

from __future__ import annotations

import datetime
from typing import Final

from azk_operator.api.conditions import READY, ConditionStatus, set_condition
from azk_operator.api.nodepool import NodePool, NodePoolNodeSet, NodePoolStatus
from azk_operator.planner.naming import nodeset_name
from azk_operator.planner.pool_nodesets import pool_selector
from azk_operator.planner.rollout import Done, ObservedNodeSet, Plan, PoolObservation

ROLLING_OUT: Final = "RollingOut"
SCALING_UP: Final = "ScalingUp"
SCALING_DOWN: Final = "ScalingDown"
MAX_LISTED_NODE_SETS: Final = 16


def _listed(current: ObservedNodeSet | None, node_sets: tuple[ObservedNodeSet, ...]) -> list[NodePoolNodeSet]:
    """The current NodeSet first, then the others newest first; bounded like the schema."""
    ordered = sorted(node_sets, key=lambda s: (s is not current, -s.created, s.name))
    return [
        NodePoolNodeSet(name=s.name, replicas=s.instances, ready_replicas=s.ready)
        for s in ordered[:MAX_LISTED_NODE_SETS]
    ]


class _Conditions:
    """Accumulates conditions on top of the previous ones, so unchanged statuses keep their times."""

    def __init__(self, pool: NodePool, previous: NodePoolStatus | None, now: datetime.datetime) -> None:
        self.items = list(previous.conditions) if previous else []
        self.generation = pool.metadata.generation
        self.now = now

    def set(self, kind: str, status: ConditionStatus, reason: str, message: str) -> None:
        self.items = set_condition(
            self.items, kind, status, reason, message, now=self.now, observed_generation=self.generation
        )


def rollout_status(
    pool: NodePool,
    obs: PoolObservation,
    plan: Plan,
    previous: NodePoolStatus | None,
    now: datetime.datetime,
) -> NodePoolStatus:
    """The status after planning `obs` into `plan` (before its actions have any effect)."""
    current = next((s for s in obs.node_sets if s.template_hash == obs.template_hash), None)
    rolling = any(s is not current for s in obs.node_sets)
    outcome = plan.outcome
    reason, message = ("Ready", "") if isinstance(outcome, Done) else (outcome.reason, outcome.message)
    ready = sum(s.ready for s in obs.node_sets)
    summary = f"{ready} of {obs.replicas} node(s) Ready"

    conditions = _Conditions(pool, previous, now)
    if isinstance(outcome, Done):
        conditions.set(READY, "True", "Ready", summary)
    else:
        conditions.set(READY, "False", reason, f"{summary}; {message}")
    if rolling:
        conditions.set(ROLLING_OUT, "True", reason, message)
    else:
        conditions.set(ROLLING_OUT, "False", "UpToDate", "every node runs the current template")
    growing = not rolling and (current is None or current.ready < obs.replicas)
    shrinking = not rolling and current is not None and current.footprint > obs.replicas
    for kind, active in ((SCALING_UP, growing), (SCALING_DOWN, shrinking)):
        if active:
            conditions.set(kind, "True", reason, f"{summary}; {message}")
        else:
            conditions.set(kind, "False", "AtReplicas", summary)

    return NodePoolStatus(
        observed_generation=pool.metadata.generation,
        conditions=conditions.items,
        replicas=sum(s.instances for s in obs.node_sets),
        ready_replicas=ready,
        updated_replicas=current.instances if current else 0,
        selector=pool_selector(obs.pool),
        current_node_set=current.name if current else nodeset_name(obs.pool, obs.template_hash),
        node_sets=_listed(current, obs.node_sets),
    )


def blocked_status(
    pool: NodePool, previous: NodePoolStatus | None, reason: str, message: str, now: datetime.datetime
) -> NodePoolStatus:
    """The previous status with Ready False for a reason that keeps the pool from being planned at all
    (Cluster missing or paused, unusable name or strategy); counts stay as last observed."""
    conditions = _Conditions(pool, previous, now)
    conditions.set(READY, "False", reason, message)
    base = previous or NodePoolStatus()
    return base.model_copy(
        update={"conditions": conditions.items, "observed_generation": pool.metadata.generation}
    )
