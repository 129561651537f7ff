"""The NodePool controller's Kubernetes calls: its Cluster, and listing, creating, scaling and deleting
its NodeSets. Every call is one request; none waits for the NodeSet controller to act."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kubernetes

from azk_operator.api.meta import GROUP, VERSION
from azk_operator.kube.clients import KubeClients
from azk_operator.planner.pool_nodesets import pool_selector

NODESETS = "nodesets"


class NodeSetNameTaken(Exception):
    """A NodeSet of the name the pool wants exists but is not the pool's (another owner, or being deleted
    after an earlier pool of the same name went away)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"NodeSet {name} exists and is not owned by this NodePool")
        self.name = name


def _custom(kube: KubeClients) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(kube.api)


async def get_cluster(kube: KubeClients, namespace: str, name: str) -> Mapping[str, Any] | None:
    """The Cluster object, or None when it does not exist."""
    try:
        obj: Any = await kube.call(
            _custom(kube).get_namespaced_custom_object, GROUP, VERSION, namespace, "clusters", name
        )
    except kubernetes.client.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    found: Mapping[str, Any] = obj
    return found


async def list_labelled_node_sets(kube: KubeClients, namespace: str, pool: str) -> list[Mapping[str, Any]]:
    """NodeSets carrying the pool's label; callers keep only those the pool controls (by uid)."""
    listed: Any = await kube.call(
        _custom(kube).list_namespaced_custom_object,
        GROUP,
        VERSION,
        namespace,
        NODESETS,
        label_selector=pool_selector(pool),
    )
    items: list[Mapping[str, Any]] = listed.get("items", [])
    return items


async def create_node_set(kube: KubeClients, manifest: dict[str, Any]) -> None:
    namespace = manifest["metadata"]["namespace"]
    try:
        await kube.call(
            _custom(kube).create_namespaced_custom_object, GROUP, VERSION, namespace, NODESETS, manifest
        )
    except kubernetes.client.ApiException as exc:
        if exc.status == 409:
            raise NodeSetNameTaken(manifest["metadata"]["name"]) from None
        raise


async def patch_node_set(kube: KubeClients, namespace: str, name: str, patch: dict[str, Any]) -> None:
    """A merge patch (spec.replicas and annotations)."""
    await kube.call(
        _custom(kube).patch_namespaced_custom_object, GROUP, VERSION, namespace, NODESETS, name, patch
    )


async def delete_node_set(kube: KubeClients, namespace: str, name: str) -> None:
    """Ask for the NodeSet to go (its controller drains and deletes the VMs); a missing one is gone."""
    try:
        await kube.call(
            _custom(kube).delete_namespaced_custom_object, GROUP, VERSION, namespace, NODESETS, name
        )
    except kubernetes.client.ApiException as exc:
        if exc.status != 404:
            raise
