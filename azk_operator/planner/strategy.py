"""Rollout strategy: `maxSurge` and `maxUnavailable` as counts or percentages, resolved to node counts.

Resolution follows Kubernetes Deployments, which is what users of node pools expect too: a percentage is
taken of the desired replicas, surge rounds up (a non-zero surge always buys at least one node) and
unavailable rounds down (a percentage never costs more capacity than asked for).

The defaults are the API's (`api.nodepool.DEFAULT_MAX_SURGE`, `DEFAULT_MAX_UNAVAILABLE`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from azk_operator.api.nodepool import DEFAULT_MAX_SURGE, DEFAULT_MAX_UNAVAILABLE
from azk_operator.api.types import IntOrPercent

_PERCENT = re.compile(r"^([0-9]{1,3})%$")


class InvalidStrategy(ValueError):
    """The strategy can never make progress or a value is not a count or a percentage."""


def _parse(value: IntOrPercent, field: str) -> tuple[int, bool]:
    """Return (number, is_percentage), rejecting anything the API schema would reject too."""
    if isinstance(value, bool):  # bool is an int subclass; True surge is a bug, not a count
        raise InvalidStrategy(f"{field}: must be an integer or a percentage, not {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise InvalidStrategy(f"{field}: must not be negative, got {value}")
        return value, False
    match = _PERCENT.fullmatch(value)
    if match is None or int(match.group(1)) > 100:
        raise InvalidStrategy(f"{field}: must be an integer or a percentage from 0% to 100%, got {value!r}")
    return int(match.group(1)), True


@dataclass(frozen=True)
class RolloutStrategy:
    """The user's bounds, as written in `spec.strategy`."""

    max_surge: IntOrPercent = DEFAULT_MAX_SURGE
    max_unavailable: IntOrPercent = DEFAULT_MAX_UNAVAILABLE

    def __post_init__(self) -> None:
        surge, _ = _parse(self.max_surge, "maxSurge")
        unavailable, _ = _parse(self.max_unavailable, "maxUnavailable")
        if surge == 0 and unavailable == 0:
            raise InvalidStrategy(
                "maxSurge and maxUnavailable must not both be zero: the rollout could never progress"
            )


@dataclass(frozen=True)
class ResolvedStrategy:
    """The bounds in nodes for one desired replica count."""

    max_surge: int
    max_unavailable: int


def resolve_strategy(strategy: RolloutStrategy, replicas: int) -> ResolvedStrategy:
    """Turn percentages into node counts for `replicas` desired nodes.

    Two corrections keep every pool able to finish a rollout:
    - when both bounds round to zero (e.g. maxSurge 0%, maxUnavailable 10% of 5 nodes) unavailable becomes 1,
      exactly as a Deployment does;
    - a one-node pool without surge would have to delete its only Ready node before a replacement exists,
      which the planner never does, so it surges one node instead.
    """
    if replicas < 0:
        raise ValueError(f"replicas must not be negative, got {replicas}")
    surge_value, surge_pct = _parse(strategy.max_surge, "maxSurge")
    unavailable_value, unavailable_pct = _parse(strategy.max_unavailable, "maxUnavailable")
    surge = math.ceil(surge_value * replicas / 100) if surge_pct else surge_value
    unavailable = unavailable_value * replicas // 100 if unavailable_pct else unavailable_value
    unavailable = min(unavailable, replicas)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    if surge == 0 and replicas == 1:
        surge = 1
    return ResolvedStrategy(max_surge=surge, max_unavailable=unavailable)
