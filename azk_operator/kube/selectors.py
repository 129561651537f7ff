"""Label selector matching (`matchLabels` + `matchExpressions`), as the apiserver evaluates it.

The Eviction API tells azk *that* a PodDisruptionBudget blocks a pod; to name it in a condition, azk finds
the budget whose selector matches the pod, which needs the same semantics the disruption controller uses.
"""

from __future__ import annotations

from collections.abc import Mapping

import kubernetes


def selector_matches(selector: kubernetes.client.V1LabelSelector | None, labels: Mapping[str, str]) -> bool:
    """True when `labels` satisfy `selector`. A missing selector matches nothing; an empty one everything."""
    if selector is None:
        return False
    for key, value in (selector.match_labels or {}).items():
        if labels.get(key) != value:
            return False
    return all(_requirement_holds(req, labels) for req in selector.match_expressions or [])


def _requirement_holds(req: kubernetes.client.V1LabelSelectorRequirement, labels: Mapping[str, str]) -> bool:
    values = set(req.values or [])
    match req.operator:
        case "In":
            return req.key in labels and labels[req.key] in values
        case "NotIn":
            return req.key not in labels or labels[req.key] not in values
        case "Exists":
            return req.key in labels
        case "DoesNotExist":
            return req.key not in labels
    raise ValueError(f"unknown label selector operator {req.operator!r}")
