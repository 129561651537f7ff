"""The writes a NodePool makes to its NodeSets, as manifests and patches computed from the pool (pure).

A NodeSet the pool creates carries everything that ties it to the pool: a controller ownerReference with the
pool's uid (what garbage collection and the planner go by), the pool and cluster labels (what list calls and
Nodes are selected by), and the time its first nodes were asked for.
"""

from __future__ import annotations

import datetime
from typing import Any, Final

from azk_operator.api.meta import API_VERSION
from azk_operator.api.nodepool import NodePool
from azk_operator.bootstrap.cluster_secrets import CLUSTER_LABEL
from azk_operator.planner.pool_observation import (
    POOL_LABEL,
    SCALE_UP_ANNOTATION,
    PoolNodeSet,
    format_time,
    waiting_nodes,
)

WORKER_ROLE: Final = "Worker"
MAX_LABEL_VALUE_LENGTH: Final = 63


class PoolNameUnusable(ValueError):
    """The pool's name cannot be a label value, so its NodeSets and Nodes could not be selected."""


def pool_selector(pool: str) -> str:
    """The label selector of the pool's NodeSets and Nodes (also the scale subresource's selector)."""
    if len(pool) > MAX_LABEL_VALUE_LENGTH:
        raise PoolNameUnusable(
            f"NodePool names are label values on its NodeSets and Nodes: at most {MAX_LABEL_VALUE_LENGTH} "
            f"characters, {pool!r} has {len(pool)}"
        )
    return f"{POOL_LABEL}={pool}"


def new_node_set(pool: NodePool, name: str, replicas: int, now: datetime.datetime) -> dict[str, Any]:
    """The manifest of the pool's NodeSet `name` for the pool's current template."""
    meta = pool.metadata
    pool_name = meta.name or ""
    pool_selector(pool_name)
    return {
        "apiVersion": API_VERSION,
        "kind": "NodeSet",
        "metadata": {
            "name": name,
            "namespace": meta.namespace,
            "labels": {CLUSTER_LABEL: pool.spec.cluster_name, POOL_LABEL: pool_name},
            "annotations": {SCALE_UP_ANNOTATION: format_time(now)},
            "ownerReferences": [
                {
                    "apiVersion": API_VERSION,
                    "kind": "NodePool",
                    "name": pool_name,
                    "uid": meta.uid,
                    "controller": True,
                }
            ],
        },
        "spec": {
            "clusterName": pool.spec.cluster_name,
            "role": WORKER_ROLE,
            "replicas": replicas,
            "template": pool.spec.template.model_dump(mode="json", by_alias=True, exclude_none=True),
        },
    }


def scale_patch(node_set: PoolNodeSet, replicas: int, now: datetime.datetime) -> dict[str, Any]:
    """A merge patch setting spec.replicas.

    Raising replicas while no node of the NodeSet is waiting starts a new startup clock; raising them while
    some are still waiting keeps the older time, because nodeStartupTimeout is about the longest wait.
    """
    patch: dict[str, Any] = {"spec": {"replicas": replicas}}
    if replicas > node_set.model.spec.replicas and waiting_nodes(node_set.model) == 0:
        patch["metadata"] = {"annotations": {SCALE_UP_ANNOTATION: format_time(now)}}
    return patch
