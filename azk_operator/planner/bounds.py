"""The lower bound on a rollout's duration, the yardstick of the rollout benchmark.

A batch is `maxSurge + maxUnavailable` nodes. With maxUnavailable 0 (the default) a batch cannot start
draining before its surge nodes are Ready, and the next batch cannot surge before the drained VMs are
deleted, so every batch costs at least boot + drain (+ delete) and batches run one after another. With
maxSurge 0 the same holds in the other order. With both non-zero the unavailable part drains while the
surge part boots, so the figure is then an estimate rather than a bound.
"""

from __future__ import annotations

import math

from azk_operator.planner.strategy import RolloutStrategy, resolve_strategy


def rollout_batches(replicas: int, strategy: RolloutStrategy) -> int:
    resolved = resolve_strategy(strategy, replicas)
    return math.ceil(replicas / (resolved.max_surge + resolved.max_unavailable)) if replicas else 0


def rollout_lower_bound_s(
    replicas: int, strategy: RolloutStrategy, boot_s: float, drain_s: float, delete_s: float = 0.0
) -> float:
    """Batches times (boot + drain + delete) seconds for replacing every node of a `replicas`-node pool."""
    if min(boot_s, drain_s, delete_s) < 0:
        raise ValueError("timings must not be negative")
    return rollout_batches(replicas, strategy) * (boot_s + drain_s + delete_s)
