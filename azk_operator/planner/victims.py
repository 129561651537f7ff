"""Which instances a NodeSet removes when it scales down.

Order: instances already being drained (a restart must pick the same victims, not start draining others),
then unready ones (they carry no capacity), then the newest (the oldest have proven themselves, and it
is what a Deployment does). Ties break on the instance id, highest first, comparing digit runs as numbers
so that VM scale set instance "10" counts as newer than "9". The rollout planner's capacity arithmetic
relies on this order: it assumes a NodeSet scaled to `t` keeps `min(ready, t)` Ready nodes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Instance:
    instance_id: str
    ready: bool
    """The Node is Ready (a draining instance counts as not ready: it is cordoned)."""
    created: float
    draining: bool = False


def _natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.findall(r"\d+|\D+", text)
    )


def choose_victims(instances: Sequence[Instance], count: int) -> tuple[Instance, ...]:
    """The `count` instances to drain and delete, in removal order."""
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    newest_first = sorted(
        instances, key=lambda i: (i.created, _natural_key(i.instance_id), i.instance_id), reverse=True
    )
    by_priority = sorted(newest_first, key=lambda i: (not i.draining, i.ready and not i.draining))
    return tuple(by_priority[:count])
