"""Cordon and uncordon: mark a Node (un)schedulable, writing only when its state differs.

A drain also records when it started in an annotation on the Node, in the same write as the cordon, so a
restarted operator resumes the drain with its original deadline instead of starting the clock again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import kubernetes

from azk_operator.kube.clients import KubeClients
from azk_operator.kube.nodes import NodeInfo, node_info

DRAIN_STARTED_ANNOTATION = "engine.azk.io/drain-started-at"


class NodeNotFoundError(LookupError):
    pass


async def cordon(clients: KubeClients, node_name: str) -> bool:
    """Make the Node unschedulable. True when this call changed it, False when it already was."""
    node = await _read(clients, node_name)
    if node.unschedulable:
        return False
    await _patch(clients, node_name, {"spec": {"unschedulable": True}})
    return True


async def uncordon(clients: KubeClients, node_name: str) -> bool:
    """Make the Node schedulable again and forget any drain in progress. True when this call changed it."""
    node = await _read(clients, node_name)
    patch: dict[str, Any] = {}
    if node.unschedulable:
        patch["spec"] = {"unschedulable": False}
    if DRAIN_STARTED_ANNOTATION in node.annotations:
        patch["metadata"] = {"annotations": {DRAIN_STARTED_ANNOTATION: None}}
    if not patch:
        return False
    await _patch(clients, node_name, patch)
    return True


async def cordon_for_drain(clients: KubeClients, node_name: str, now: datetime) -> tuple[NodeInfo, datetime]:
    """Cordon the Node and record `now` as the drain's start unless a start is recorded already.

    Returns the Node as read and the drain's start time (the recorded one wins). At most one write.
    """
    node = await _read(clients, node_name)
    recorded = node.annotations.get(DRAIN_STARTED_ANNOTATION)
    started_at = _parse_time(recorded) if recorded else None
    patch: dict[str, Any] = {}
    if not node.unschedulable:
        patch["spec"] = {"unschedulable": True}
    if started_at is None:
        started_at = now
        patch["metadata"] = {"annotations": {DRAIN_STARTED_ANNOTATION: now.isoformat()}}
    if patch:
        node = node_info(await _patch(clients, node_name, patch))
    return node, started_at


async def _read(clients: KubeClients, node_name: str) -> NodeInfo:
    try:
        return node_info(await clients.call(clients.core.read_node, node_name))
    except kubernetes.client.ApiException as exc:
        if exc.status == 404:
            raise NodeNotFoundError(f"node {node_name!r} does not exist") from exc
        raise


async def _patch(clients: KubeClients, node_name: str, patch: dict[str, Any]) -> kubernetes.client.V1Node:
    return await clients.call(clients.core.patch_node, node_name, patch)


def _parse_time(text: str) -> datetime | None:
    """The recorded start, or None when the annotation was edited into something unreadable."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None
