"""`azk delete`: through the operator first, then watch Azure until nothing tagged for the cluster is left.

The operator deletes workers, control plane and network (see controllers/cluster.py). `--force` finishes
from outside with the Azure layer's own delete plan — scale sets tagged for the cluster, then the base
infrastructure (the whole group when azk owns it) — for when the operator cannot (its API is gone).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import kubernetes
from azure.core.exceptions import ResourceNotFoundError

from azk_operator.api.cluster import Cluster
from azk_operator.api.meta import GROUP, VERSION
from azk_operator.azure.clients import AzureClientFactory, SubscriptionClients
from azk_operator.azure.errors import ErrorKind, classify
from azk_operator.azure.infra import BaseInfrastructure, drive
from azk_operator.azure.tags import is_owned
from azk_operator.kube.clients import KubeClients
from azk_operator.planner.cluster_infra import base_infra_spec

SCALE_SET_TYPE = "microsoft.compute/virtualmachinescalesets"


class DeleteFailed(RuntimeError):
    """Something tagged for the cluster is still in Azure; the message names it."""


@dataclass(frozen=True)
class Leftovers:
    group_owned_exists: bool
    resources: tuple[str, ...]
    """`type/name` of every resource in the group tagged for the cluster."""

    @property
    def empty(self) -> bool:
        return not self.group_owned_exists and not self.resources


async def tagged_leftovers(clients: SubscriptionClients, cluster: Cluster) -> Leftovers:
    """What Azure still holds for the cluster: its owned group, and tagged resources in the group."""
    name = cluster.metadata.name or ""
    group_name = cluster.spec.azure.resource_group
    try:
        group = await clients.resource.resource_groups.get(group_name)
        found = [
            f"{resource.type}/{resource.name}"
            async for resource in clients.resource.resources.list_by_resource_group(group_name)
            if is_owned(resource.tags, name)
        ]
    except ResourceNotFoundError:  # the group went away (between the two calls, too): nothing is left
        return Leftovers(False, ())
    return Leftovers(is_owned(group.tags, name), tuple(sorted(found)))


async def request_delete(kube: KubeClients, namespace: str, name: str) -> bool:
    """Ask the operator to delete the Cluster (it owns the rest); False when it is already gone."""
    custom = kubernetes.client.CustomObjectsApi(kube.api)
    try:
        await kube.call(
            custom.delete_namespaced_custom_object,
            GROUP,
            VERSION,
            namespace,
            "clusters",
            name,
            _request_timeout=10,
        )
    except kubernetes.client.ApiException as error:
        if error.status == 404:
            return False
        raise
    return True


async def wait_until_empty(
    azure: AzureClientFactory, cluster: Cluster, within_s: float, poll_s: float, report: Any
) -> Leftovers:
    """Poll Azure until nothing is tagged for the cluster (or the time is up); return the last view."""
    clients = azure.subscription(cluster.spec.azure.subscription_id)
    deadline = time.monotonic() + within_s
    while True:
        left = await tagged_leftovers(clients, cluster)
        report(left)
        if left.empty or time.monotonic() > deadline:
            return left
        await asyncio.sleep(poll_s)


async def force_delete(azure: AzureClientFactory, cluster: Cluster, within_s: float) -> None:
    """Delete from outside: the cluster's scale sets, then the base infrastructure, as the operator would."""
    name = cluster.metadata.name or ""
    clients = azure.subscription(cluster.spec.azure.subscription_id)
    left = await tagged_leftovers(clients, cluster)
    scale_sets = [r.split("/")[-1] for r in left.resources if r.lower().startswith(SCALE_SET_TYPE + "/")]
    pollers = []
    for scale_set in scale_sets:
        try:
            pollers.append(
                await clients.compute.virtual_machine_scale_sets.begin_delete(
                    cluster.spec.azure.resource_group, scale_set
                )
            )
        except Exception as error:
            verdict = classify(error, operation="delete")
            if verdict.kind not in (ErrorKind.DONE, ErrorKind.MISSING):
                raise DeleteFailed(f"scale set {scale_set}: {verdict.reason}: {verdict.message}") from None
    await asyncio.gather(*(poller.result() for poller in pollers))
    plan = BaseInfrastructure(clients, base_infra_spec(name, cluster.spec))
    status = await drive(plan.delete, within_s=within_s)
    if status.failed:
        first = status.failed[0]
        raise DeleteFailed(f"{first.name}: {first.reason}: {first.message}")
