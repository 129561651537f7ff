"""PDB-aware node drain in resumable steps, for operator handlers that must never block.

`drain_step` does one pass and returns what the caller should do next:

1. cordon the Node, recording the drain's start in an annotation (`engine.azk.io/drain-started-at`) in the
   same write, so a restarted operator keeps the original deadline;
2. list the pods bound to the Node (`spec.nodeName`), leave DaemonSet, mirror and finished pods alone
   (see `podselection`), evict each other pod not yet terminating through the Eviction API — every pod on
   its own, so a pod no budget covers goes at once while a protected one waits;
3. report `Drained` (nothing left to wait for), `InProgress` (pods are terminating), `Blocked` (a
   PodDisruptionBudget refused an eviction: names the budget and the pod) or `TimedOut`.

Pod grace periods are kept: evictions carry no grace period unless `DrainPolicy.grace_period_seconds` sets
one, so each pod gets its own `terminationGracePeriodSeconds`; the drain then waits for the pods to go.

At the timeout (`DrainPolicy.timeout`, NodePool `strategy.drainTimeout`, measured from the recorded start)
the policy decides, explicitly:
- `OnDrainTimeout.WAIT` (the default, the safe production choice): nothing is forced. The node stays
  cordoned, evictions keep going through the Eviction API on every step (so a budget that later allows a
  disruption still lets the drain finish), and every step answers `TimedOut` naming what blocks it; the
  caller reports a condition and does not delete the node. A PodDisruptionBudget is a promise to the
  workload's owner, and only they (or an operator editing the strategy) may break it.
- `OnDrainTimeout.DELETE_PODS`: pods the Eviction API still refuses are deleted with a plain DELETE that
  bypasses their budgets (still with their grace period); steps answer `TimedOut` until they are gone, then
  `Drained`. For pools whose owner prefers progress over disruption budgets.

A Node that is not Ready (its kubelet unreachable) can never confirm that a terminating pod stopped; its
pods that already carry a deletionTimestamp are then not waited for (the VM is about to go; Cluster API
makes the same call). A Node that does not exist has nothing to drain: `Drained`.

No secrets are involved: results and logs name pods and budgets only.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import kubernetes

from azk_operator.kube.clients import KubeClients
from azk_operator.kube.cordon import NodeNotFoundError, cordon_for_drain
from azk_operator.kube.eviction import RefusedByBudget, Throttled, delete_pod, evict_pod
from azk_operator.kube.podselection import DrainSelection, PodRef, pod_ref, select_for_drain

logger = logging.getLogger(__name__)

MAX_NAMED_PODS = 5  # condition messages stay short however many pods a node runs


class OnDrainTimeout(enum.StrEnum):
    WAIT = "Wait"
    DELETE_PODS = "DeletePods"


@dataclass(frozen=True)
class DrainPolicy:
    timeout: timedelta = timedelta(minutes=10)
    on_timeout: OnDrainTimeout = OnDrainTimeout.WAIT
    grace_period_seconds: int | None = None  # None: each pod's own terminationGracePeriodSeconds
    poll_interval_s: float = 5.0  # retry delay while pods terminate
    blocked_retry_s: float = 15.0  # retry delay while a budget refuses (budgets change slowly)


@dataclass(frozen=True)
class Drained:
    node: str
    started_at: datetime
    message: str = "drained"


@dataclass(frozen=True)
class InProgress:
    node: str
    started_at: datetime
    remaining: tuple[PodRef, ...]
    retry_after_s: float

    @property
    def message(self) -> str:
        return f"waiting for {_pods_phrase(self.remaining)} to terminate"


@dataclass(frozen=True)
class Blocked:
    node: str
    started_at: datetime
    pdb: str  # empty when the refusing budget could not be identified (deleted meanwhile)
    pod: PodRef
    detail: str  # the apiserver's refusal
    remaining: tuple[PodRef, ...]
    retry_after_s: float

    @property
    def message(self) -> str:
        budget = f"PodDisruptionBudget {self.pod.namespace}/{self.pdb}" if self.pdb else "a disruption budget"
        return f"{budget} blocks eviction of pod {self.pod}: {self.detail}"


@dataclass(frozen=True)
class TimedOut:
    node: str
    started_at: datetime
    elapsed: timedelta
    remaining: tuple[PodRef, ...]
    retry_after_s: float
    blocked: Blocked | None = None
    deleted: tuple[PodRef, ...] = field(default_factory=tuple)  # force-deleted this step (DELETE_PODS)

    @property
    def message(self) -> str:
        waiting = self.blocked.message if self.blocked else f"waiting for {_pods_phrase(self.remaining)}"
        return f"drain timed out after {int(self.elapsed.total_seconds())}s; {waiting}"


DrainResult = Drained | InProgress | Blocked | TimedOut


async def drain_step(
    clients: KubeClients,
    node_name: str,
    policy: DrainPolicy | None = None,
    *,
    started_at: datetime | None = None,
    now: datetime | None = None,
) -> DrainResult:
    """One pass of draining `node_name`; call again after `retry_after_s` until `Drained`.

    `started_at` overrides the start recorded on the Node (for callers that keep it in their own status);
    `now` exists for callers and tests that need a fixed clock.
    """
    policy = policy or DrainPolicy()
    now = now or datetime.now(UTC)
    try:
        node, recorded_start = await cordon_for_drain(clients, node_name, now)
    except NodeNotFoundError:
        return Drained(node_name, started_at or now, message="node does not exist")
    start = started_at or recorded_start
    elapsed = now - start
    timed_out = elapsed >= policy.timeout

    selection = await _select(clients, node_name)
    refusals: list[RefusedByBudget] = []
    deleted: list[PodRef] = []
    throttled_for = 0.0
    for pod in selection.to_evict:
        outcome = await evict_pod(clients, pod, policy.grace_period_seconds)
        if isinstance(outcome, RefusedByBudget):
            if timed_out and policy.on_timeout is OnDrainTimeout.DELETE_PODS:
                if await delete_pod(clients, pod, policy.grace_period_seconds):
                    deleted.append(pod_ref(pod))
            else:
                refusals.append(outcome)
        elif isinstance(outcome, Throttled):
            throttled_for = max(throttled_for, outcome.retry_after_s or policy.poll_interval_s)
    if selection.to_evict:
        selection = await _select(clients, node_name)  # what the evictions left (grace 0 pods are gone)

    waiting = selection.to_evict + (selection.terminating if node.ready else ())
    remaining = tuple(sorted(pod_ref(p) for p in waiting))
    if not remaining:
        logger.info("node %s drained", node_name)
        return Drained(node_name, start)
    blocked = _blocked(node_name, start, refusals, remaining, policy.blocked_retry_s)
    if timed_out:
        retry = blocked.retry_after_s if blocked else max(policy.poll_interval_s, throttled_for)
        return TimedOut(node_name, start, elapsed, remaining, retry, blocked, tuple(deleted))
    if blocked:
        return blocked
    return InProgress(node_name, start, remaining, max(policy.poll_interval_s, throttled_for))


async def _select(clients: KubeClients, node_name: str) -> DrainSelection:
    pods = await clients.call(
        clients.core.list_pod_for_all_namespaces, field_selector=f"spec.nodeName={node_name}"
    )
    items: list[kubernetes.client.V1Pod] = pods.items
    return select_for_drain(items)


def _blocked(
    node_name: str,
    start: datetime,
    refusals: list[RefusedByBudget],
    remaining: tuple[PodRef, ...],
    retry_after_s: float,
) -> Blocked | None:
    if not refusals:
        return None
    first = refusals[0]  # pods are evicted in name order, so the report is stable between steps
    pdb = ",".join(first.budgets)
    return Blocked(node_name, start, pdb, first.pod, first.message, remaining, retry_after_s)


def _pods_phrase(pods: tuple[PodRef, ...]) -> str:
    names = ", ".join(str(p) for p in pods[:MAX_NAMED_PODS])
    more = f" and {len(pods) - MAX_NAMED_PODS} more" if len(pods) > MAX_NAMED_PODS else ""
    noun = "pod" if len(pods) == 1 else "pods"
    return f"{len(pods)} {noun} ({names}{more})"
