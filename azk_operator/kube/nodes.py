"""Node lookup (by name, label selector or Azure providerID) into a small typed NodeInfo."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import kubernetes

from azk_operator.kube.clients import KubeClients
from azk_operator.kube.objects import meta, name_of
from azk_operator.kube.providerid import provider_id_key


@dataclass(frozen=True)
class NodeInfo:
    name: str
    provider_id: str | None
    ready: bool  # the Ready condition is True (Unknown, False or missing is not ready)
    unschedulable: bool  # cordoned
    kubelet_version: str | None
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


def node_info(node: kubernetes.client.V1Node) -> NodeInfo:
    metadata = meta(node)
    spec = node.spec
    status = node.status
    conditions = (status.conditions if status else None) or []
    return NodeInfo(
        name=name_of(node),
        provider_id=spec.provider_id if spec else None,
        ready=any(c.type == "Ready" and c.status == "True" for c in conditions),
        unschedulable=bool(spec and spec.unschedulable),
        kubelet_version=status.node_info.kubelet_version if status and status.node_info else None,
        labels=dict(metadata.labels or {}),
        annotations=dict(metadata.annotations or {}),
    )


async def get_node(clients: KubeClients, name: str) -> NodeInfo | None:
    """The Node called `name`, or None when there is none."""
    try:
        node = await clients.call(clients.core.read_node, name)
    except kubernetes.client.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return node_info(node)


async def list_nodes(clients: KubeClients, label_selector: str | None = None) -> list[NodeInfo]:
    """Every Node, or those matching a label selector (`k=v,k2 in (a,b)`), sorted by name."""
    nodes = await clients.call(clients.core.list_node, label_selector=label_selector)
    return sorted((node_info(n) for n in nodes.items), key=lambda n: n.name)


async def nodes_by_provider_id(
    clients: KubeClients, provider_ids: Iterable[str], label_selector: str | None = None
) -> dict[str, NodeInfo]:
    """The Nodes whose providerID names one of `provider_ids` (compared case-insensitively).

    Keys are the ids as the caller spelled them; ids with no Node are absent. One list call for any number
    of ids: the apiserver cannot filter Nodes by providerID, and a NodeSet asks for all its instances at once.
    """
    wanted = {provider_id_key(pid): pid for pid in provider_ids}
    found: dict[str, NodeInfo] = {}
    for node in await list_nodes(clients, label_selector):
        if node.provider_id and (asked := wanted.get(provider_id_key(node.provider_id))) is not None:
            found[asked] = node
    return found


async def node_by_provider_id(clients: KubeClients, provider_id: str) -> NodeInfo | None:
    return (await nodes_by_provider_id(clients, [provider_id])).get(provider_id)
