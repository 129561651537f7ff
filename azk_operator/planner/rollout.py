"""The NodePool rollout planner: observed NodeSets in, the next actions out.

A NodePool is to NodeSets what a Deployment is to ReplicaSets: the NodeSet named after the current template
grows, every other NodeSet of the pool shrinks to zero and is deleted. Each call looks only at what is
observed now (no remembered progress), so an operator restart at any point simply plans again.

Two counts bound every step, and both are computed on what the pool will hold once the NodeSet controller
has caught up with the planned replica counts:
- footprint: VMs that exist or are wanted, `max(spec.replicas, instances)` per NodeSet. A shrinking NodeSet
  keeps its footprint until its drained VMs are deleted, so surging into that room later never exceeds
  `replicas + maxSurge` VMs;
- available: Ready, schedulable nodes that no scale-down will remove. The NodeSet controller removes
  draining and unready instances before Ready ones (see `victims`), so a NodeSet scaled to `t` keeps
  `min(ready, t)` of its Ready nodes. Removals never take the pool below `replicas - maxUnavailable`
  available nodes, and never below one while the pool wants any: a pool's last Ready node is not drained
  while its replacement boots.

Scaling a NodeSet down means "drain, then delete": the NodeSet controller cordons and evicts through the
Eviction API before deleting each VM, so the planner never deletes a node itself.

When new nodes are not Ready within nodeStartupTimeout, or a drain runs past drainTimeout, the rollout
stops where it is: no more old nodes are drained and no more VMs are added, so the pool stays at its surge
bound with all its old capacity. Nothing is forced; the outcome names the cause, and the rollout resumes on
its own once the node turns Ready, the blocking PodDisruptionBudget lets the eviction through, or the
template is changed again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from azk_operator.planner.naming import nodeset_name
from azk_operator.planner.strategy import ResolvedStrategy, RolloutStrategy, resolve_strategy


@dataclass(frozen=True)
class ObservedNodeSet:
    """One NodeSet as the controller sees it now."""

    name: str
    template_hash: str
    owner: str
    """The NodePool that owns it (ownerReference and pool label); the planner acts only on its own pool's."""
    replicas: int
    """spec.replicas."""
    instances: int
    """VMs that exist: booting, Ready, NotReady or draining."""
    ready: int
    """Instances whose Node is Ready and not cordoned for a drain."""
    created: float
    """Creation time; older NodeSets are emptied first, like a Deployment's oldest ReplicaSets."""
    draining: int = 0
    """Instances being cordoned, drained or deleted."""
    booting_since: float | None = None
    """When the longest-waiting wanted-but-not-Ready node was requested; None when none is waiting."""
    drain_blocked: str | None = None
    """What holds a drain back (e.g. "PodDisruptionBudget shop/web blocks evicting pod shop/web-1")."""
    drain_timed_out: bool = False
    """A drain of this NodeSet ran past strategy.drainTimeout."""
    deleting: bool = False
    """The NodeSet has a deletionTimestamp."""

    def __post_init__(self) -> None:
        if min(self.replicas, self.instances, self.ready, self.draining) < 0:
            raise ValueError(f"NodeSet {self.name}: counts must not be negative")
        if self.ready + self.draining > self.instances:
            raise ValueError(f"NodeSet {self.name}: ready + draining exceeds instances")

    @property
    def footprint(self) -> int:
        return max(self.replicas, self.instances)

    @property
    def kept_ready(self) -> int:
        """Ready nodes that survive the scale-down in progress (none when the NodeSet is being deleted)."""
        return 0 if self.deleting else min(self.ready, self.replicas)


@dataclass(frozen=True)
class PoolObservation:
    """A NodePool's spec and everything observed about its NodeSets."""

    pool: str
    replicas: int
    template_hash: str
    strategy: RolloutStrategy
    node_sets: tuple[ObservedNodeSet, ...]
    now: float
    node_startup_timeout_s: float

    def __post_init__(self) -> None:
        if self.replicas < 0:
            raise ValueError(f"NodePool {self.pool}: replicas must not be negative")


@dataclass(frozen=True)
class CreateNodeSet:
    name: str
    template_hash: str
    replicas: int


@dataclass(frozen=True)
class ScaleNodeSet:
    """Set spec.replicas; scaling down drains each removed node before its VM is deleted."""

    name: str
    replicas: int


@dataclass(frozen=True)
class DeleteNodeSet:
    """Delete an old NodeSet that has no replicas and no VMs left."""

    name: str


Action = CreateNodeSet | ScaleNodeSet | DeleteNodeSet


@dataclass(frozen=True)
class Done:
    """Converged: only the current NodeSet is left, with exactly `replicas` Ready nodes."""


@dataclass(frozen=True)
class Wait:
    """Progressing: come back later (or when something changes)."""

    reason: str
    message: str
    recheck_after_s: float | None = None
    """When waiting on node startups: the time left until nodeStartupTimeout would stall the rollout."""


@dataclass(frozen=True)
class Stalled:
    """Stopped until the cause goes away; the reason belongs in a condition."""

    reason: str
    message: str


Outcome = Done | Wait | Stalled


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]
    outcome: Outcome
    strategy: ResolvedStrategy


def _shrink(node_set: ObservedNodeSet, floor: int, budget: int) -> tuple[int, int]:
    """The lowest replica count >= floor whose lost Ready nodes fit the budget, and the nodes it costs.

    Unready and not-yet-created instances go first, so lowering replicas down to `min(ready, replicas)`
    is free; each step below costs one available node.
    """
    kept = node_set.kept_ready
    target = min(node_set.replicas, max(floor, kept - budget))
    return target, kept - min(node_set.ready, target)


def _startup_overdue(node_set: ObservedNodeSet, obs: PoolObservation) -> bool:
    since = node_set.booting_since
    return since is not None and obs.now - since >= obs.node_startup_timeout_s


def plan_rollout(obs: PoolObservation) -> Plan:
    """The actions to run now and what the pool is waiting for afterwards."""
    strategy = resolve_strategy(obs.strategy, obs.replicas)
    own = [s for s in obs.node_sets if s.owner == obs.pool]
    current = next((s for s in own if s.template_hash == obs.template_hash), None)
    olds = sorted((s for s in own if s is not current), key=lambda s: (s.created, s.name))

    actions: list[Action] = [
        DeleteNodeSet(s.name) for s in olds if not s.deleting and s.replicas == 0 and s.instances == 0
    ]
    stall = _stall(obs, current, own)
    if not (current is not None and current.deleting):
        actions.extend(_moves(obs, strategy, current, olds, stalled=stall is not None))
    outcome = stall or _outcome(obs, current, olds, actions)
    return Plan(actions=tuple(actions), outcome=outcome, strategy=strategy)


def _stall(
    obs: PoolObservation, current: ObservedNodeSet | None, own: Sequence[ObservedNodeSet]
) -> Stalled | None:
    if current is not None and _startup_overdue(current, obs):
        waiting = current.footprint - current.ready - current.draining
        return Stalled(
            "NodeStartupTimeout",
            f"{waiting} node(s) of NodeSet {current.name} not Ready within "
            f"{obs.node_startup_timeout_s:g}s; no more old nodes are drained until they are",
        )
    timed_out = [s for s in own if s.drain_timed_out]
    if timed_out:
        blocker = timed_out[0].drain_blocked or "pods did not leave"
        return Stalled("DrainTimeout", f"draining NodeSet {timed_out[0].name} timed out: {blocker}")
    return None


def _moves(
    obs: PoolObservation,
    strategy: ResolvedStrategy,
    current: ObservedNodeSet | None,
    olds: Sequence[ObservedNodeSet],
    *,
    stalled: bool,
) -> list[Action]:
    """Surge, then shrink. A stalled rollout neither surges nor drains old nodes; it may still shrink the
    current NodeSet to `replicas`, which removes its unready nodes first."""
    desired = obs.replicas
    own = [*olds, *([current] if current is not None else [])]
    ceiling = desired + strategy.max_surge
    floor = max(desired - strategy.max_unavailable, min(1, desired))
    # Old nodes go in whole batches: while nodes of the current NodeSet are still joining, its Ready ones
    # do not count towards draining old nodes yet (only maxUnavailable does), as AKS's surge upgrade waits
    # for its whole surge. Each drain-and-delete is one scale-set operation, as slow for one VM as for five
    # and counted against the scale set's few updates a minute: draining for the first Ready node of a
    # batch would split every later batch in two.
    joining = current is not None and current.booting_since is not None
    budget = sum(s.kept_ready for s in own if not (joining and s is current)) - floor
    moves: list[Action] = []

    # Surge first: room freed by finished drains is refilled by nodes of the current template.
    room = ceiling - sum(s.footprint for s in own)
    if not stalled and current is None:
        moves.append(
            CreateNodeSet(
                nodeset_name(obs.pool, obs.template_hash), obs.template_hash, max(0, min(desired, room))
            )
        )
    elif not stalled and current is not None and current.instances <= current.replicas < desired and room > 0:
        moves.append(ScaleNodeSet(current.name, min(desired, current.replicas + room)))

    # Then shrink: old NodeSets oldest first (they all go), the current one only down to `replicas`.
    for node_set in olds:
        if stalled or node_set.deleting or node_set.replicas == 0:
            continue
        target, cost = _shrink(node_set, 0, max(0, budget))
        if target < node_set.replicas:
            moves.append(ScaleNodeSet(node_set.name, target))
            budget -= cost
    if current is not None and current.replicas > desired:
        target, cost = _shrink(current, desired, max(0, budget))
        if target < current.replicas:
            moves.append(ScaleNodeSet(current.name, target))
    return moves


def _outcome(
    obs: PoolObservation,
    current: ObservedNodeSet | None,
    olds: Sequence[ObservedNodeSet],
    actions: Sequence[Action],
) -> Outcome:
    desired = obs.replicas
    own = [*olds, *([current] if current is not None else [])]
    blocked = next((s for s in own if s.drain_blocked), None)
    if blocked is not None:
        return Wait("DrainBlocked", f"draining NodeSet {blocked.name}: {blocked.drain_blocked}")
    if current is None:
        return Wait("CreatingNodeSet", f"creating the NodeSet of template {obs.template_hash}")
    if current.deleting:
        return Wait("NodeSetDeleting", f"NodeSet {current.name} is being deleted; it is recreated afterwards")
    if current.booting_since is not None or current.ready < min(current.replicas, desired):
        recheck = None
        if current.booting_since is not None:
            recheck = max(0.0, current.booting_since + obs.node_startup_timeout_s - obs.now)
        return Wait(
            "WaitingForNodes",
            f"{current.ready} of {min(current.replicas, desired)} node(s) of NodeSet {current.name} Ready",
            recheck,
        )
    draining = [s for s in own if s.instances > s.replicas or s.draining]
    if draining:
        count = sum(max(s.instances - s.replicas, s.draining) for s in draining)
        return Wait(
            "Draining", f"draining {count} node(s) of NodeSet(s) {', '.join(s.name for s in draining)}"
        )
    if olds:
        return Wait("RollingOut", f"moving nodes from {len(olds)} old NodeSet(s) to {current.name}")
    if actions or current.replicas != desired or current.instances != desired:
        return Wait("Scaling", f"NodeSet {current.name}: {current.instances} of {desired} node(s)")
    return Done()
